/* The few calls bathy makes into ISA-L's igzip (src/source/inflate.rs), compiled against the
 * system's header by build.rs, so that the Rust side never depends on the layout of ISA-L's
 * `struct inflate_state` (which differs between ISA-L versions). */
#include <isa-l/igzip_lib.h>
#include <stdint.h>
#include <stdlib.h>

/* A gzip decoder state (concatenated members, each CRC-32 and length checked), or NULL when
 * out of memory. */
void *bathy_isal_new(void) {
    struct inflate_state *s = malloc(sizeof *s);
    if (s != NULL) {
        isal_inflate_init(s);
        s->crc_flag = ISAL_GZIP;
    }
    return s;
}

void bathy_isal_free(void *state) { free(state); }

/* Ready for the next gzip member. */
void bathy_isal_reset(void *state) {
    struct inflate_state *s = state;
    isal_inflate_reset(s);
    s->crc_flag = ISAL_GZIP;
}

/* Inflate from `in` into `out`; says how much of each was used and whether the member ended.
 * No pointer into the caller's buffers is kept in the state after the call (ISA-L copies the
 * input it holds back into its own buffer). */
int bathy_isal_inflate(void *state, const uint8_t *in, uint32_t in_len, uint32_t *used,
                       uint8_t *out, uint32_t out_len, uint32_t *made, int *finished) {
    struct inflate_state *s = state;
    s->next_in = (uint8_t *)in;
    s->avail_in = in_len;
    s->next_out = out;
    s->avail_out = out_len;
    int ret = isal_inflate(s);
    *used = in_len - s->avail_in;
    *made = out_len - s->avail_out;
    *finished = s->block_state == ISAL_BLOCK_FINISH;
    s->next_in = NULL;
    s->avail_in = 0;
    s->next_out = NULL;
    s->avail_out = 0;
    return ret;
}

/* Whether the current member has ended (its trailer checked). */
int bathy_isal_finished(const void *state) {
    const struct inflate_state *s = state;
    return s->block_state == ISAL_BLOCK_FINISH;
}
