/* Test driver for the emitted C: reads n (int64) then n input rows from the file
 * named on the command line; rows are features (float32) when the net has an
 * encoding, else bytes. Prints per row the counts, the prediction, the scores
 * as exact hex floats, then the counts again from the 64-sample word API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitlogic_net.h"

#define K BITLOGIC_NET_NUM_CLASSES
#define N BITLOGIC_NET_NUM_INPUTS

#ifdef BITLOGIC_NET_NUM_FEATURES
typedef float row_t[BITLOGIC_NET_NUM_FEATURES];
#else
typedef uint8_t row_t[N];
#endif

static void row_bits(const row_t row, uint8_t *bits)
{
#ifdef BITLOGIC_NET_NUM_FEATURES
    bitlogic_net_encode(row, bits);
#else
    memcpy(bits, row, N);
#endif
}

int main(int argc, char **argv)
{
    FILE *f;
    long long n, s, g;
    int c, i;
    row_t *rows;
    uint32_t *word_counts;
    if (argc != 2 || !(f = fopen(argv[1], "rb")) || fread(&n, sizeof n, 1, f) != 1)
        return 2;
    rows = malloc(sizeof(row_t) * (size_t)(n + 1));
    word_counts = malloc(sizeof(uint32_t) * K * (size_t)(n + 64));
    if (!rows || !word_counts || (n && fread(rows, sizeof(row_t), (size_t)n, f) != (size_t)n))
        return 3;
    fclose(f);
    for (g = 0; g < n; g += 64) { /* pack 64 samples, zero-padded, into words */
        uint64_t words[N];
        uint8_t bits[N];
        memset(words, 0, sizeof words);
        for (s = g; s < n && s < g + 64; s++) {
            row_bits(rows[s], bits);
            for (i = 0; i < N; i++)
                words[i] |= (uint64_t)(bits[i] != 0) << (s - g);
        }
        bitlogic_net_eval_words(words, word_counts + g * K);
    }
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
            printf(" %u", (unsigned)word_counts[s * K + c]);
        printf("\n");
    }
    free(rows);
    free(word_counts);
    return 0;
}
