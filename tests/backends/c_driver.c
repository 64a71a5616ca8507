/* Test driver for the emitted C: reads n (int64) then n input rows from the file
 * named on the command line, prints per row the counts, the prediction and the
 * scores as exact hex floats. Rows are features (float32) when the net has an
 * encoding, else bytes. */
#include <stdio.h>
#include <stdlib.h>

#include "bitlogic_net.h"

int main(int argc, char **argv)
{
    FILE *f;
    long long n, s;
    int c;
    if (argc != 2 || !(f = fopen(argv[1], "rb")) || fread(&n, sizeof n, 1, f) != 1)
        return 2;
    for (s = 0; s < n; s++) {
        uint32_t counts[BITLOGIC_NET_NUM_CLASSES];
        float scores[BITLOGIC_NET_NUM_CLASSES];
        int pred;
#ifdef BITLOGIC_NET_NUM_FEATURES
        float x[BITLOGIC_NET_NUM_FEATURES];
        if (fread(x, sizeof x, 1, f) != 1)
            return 3;
        bitlogic_net_eval(x, counts);
        bitlogic_net_scores(x, scores);
        pred = bitlogic_net_predict(x);
#else
        uint8_t x[BITLOGIC_NET_NUM_INPUTS];
        if (fread(x, sizeof x, 1, f) != 1)
            return 3;
        bitlogic_net_eval_bits(x, counts);
        bitlogic_net_scores_bits(x, scores);
        pred = bitlogic_net_predict_bits(x);
#endif
        for (c = 0; c < BITLOGIC_NET_NUM_CLASSES; c++)
            printf("%u ", (unsigned)counts[c]);
        printf("%d", pred);
        for (c = 0; c < BITLOGIC_NET_NUM_CLASSES; c++)
            printf(" %a", (double)scores[c]);
        printf("\n");
    }
    fclose(f);
    return 0;
}
