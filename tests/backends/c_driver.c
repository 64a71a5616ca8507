/* Test driver for the emitted C: reads n (int64) then n input rows from the file
 * named on the command line; rows are features (float32) when the net has an
 * encoding, else bytes. Prints per row the counts, the prediction and the
 * scores (exact hex floats) of the per-sample API, then the counts of the batch
 * API over all n rows at once, then those of the batch API called on chunks of
 * 37 rows (tails of every size). The first line is the batch build's ISA. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitlogic_net.h"

#define K BITLOGIC_NET_NUM_CLASSES
#define N BITLOGIC_NET_NUM_INPUTS
#define CHUNK 37

#ifdef BITLOGIC_NET_NUM_FEATURES
#define W BITLOGIC_NET_NUM_FEATURES
typedef float row_t[W];
#define BATCH(rows, n, counts) bitlogic_net_eval_batch_features(&(rows)[0][0], (n), (counts))
#else
#define W N
typedef uint8_t row_t[N];
#define BATCH(rows, n, counts) bitlogic_net_eval_batch(&(rows)[0][0], (n), (counts))
#endif

int main(int argc, char **argv)
{
    FILE *f;
    long long n, s, g;
    int c;
    row_t *rows;
    uint32_t *whole, *chunked;
    if (argc != 2 || !(f = fopen(argv[1], "rb")) || fread(&n, sizeof n, 1, f) != 1)
        return 2;
    rows = malloc(sizeof(row_t) * (size_t)(n + 1));
    whole = malloc(sizeof(uint32_t) * K * (size_t)(n + 1));
    chunked = malloc(sizeof(uint32_t) * K * (size_t)(n + 1));
    if (!rows || !whole || !chunked || (n && fread(rows, sizeof(row_t), (size_t)n, f) != (size_t)n))
        return 3;
    fclose(f);
    if (BATCH(rows, (size_t)n, whole) != 0)
        return 4;
    for (g = 0; g < n; g += CHUNK)
        if (BATCH(rows + g, (size_t)(n - g < CHUNK ? n - g : CHUNK), chunked + g * K) != 0)
            return 4;
    printf("%s\n", bitlogic_net_batch_isa());
    for (s = 0; s < n; s++) {
        uint32_t counts[K];
        float scores[K];
        int pred;
#ifdef BITLOGIC_NET_NUM_FEATURES
        bitlogic_net_eval(rows[s], counts);
        bitlogic_net_scores(rows[s], scores);
        pred = bitlogic_net_predict(rows[s]);
#else
        bitlogic_net_eval_bits(rows[s], counts);
        bitlogic_net_scores_bits(rows[s], scores);
        pred = bitlogic_net_predict_bits(rows[s]);
#endif
        for (c = 0; c < K; c++)
            printf("%u ", (unsigned)counts[c]);
        printf("%d", pred);
        for (c = 0; c < K; c++)
            printf(" %a", (double)scores[c]);
        for (c = 0; c < K; c++)
            printf(" %u", (unsigned)whole[s * K + c]);
        for (c = 0; c < K; c++)
            printf(" %u", (unsigned)chunked[s * K + c]);
        printf("\n");
    }
    free(rows);
    free(whole);
    free(chunked);
    return 0;
}
