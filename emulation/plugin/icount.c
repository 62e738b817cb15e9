/*
 * edgenn's instruction-counting plugin for QEMU's TCG (qemu-system-arm, qemu-aarch64, qemu-arm).
 *
 * Counts the guest instructions executed between calls to marker functions of the firmware or
 * runner (templates/test_app/markers.c.j2): edgenn_marker_begin() / edgenn_marker_end() around
 * one inference, and edgenn_marker_layer_begin() / edgenn_marker_layer_end() around each layer
 * (the model's profiling hooks; layers run in order, so the n-th pair is layer n).
 *
 * Arguments (addresses of the markers' first instructions, from the ELF's symbol table):
 *   begin=0x..., end=0x..., layer_begin=0x..., layer_end=0x... (optional), out=FILE, classes=0|1, hot=FILE, vcpus=0|1
 * (without begin and end, only the total is written: for timing a whole process).
 * For every inference it writes one line to FILE: the instructions of the whole inference, then
 * those of each layer, separated by spaces. At exit: "total N" (all instructions executed).
 * (The plugin's own text output would only show with -d plugin, hence the file.)
 *
 * Counting: every translated block adds its number of instructions to a counter when it starts
 * executing (an inline add, cheap). A marker's callback runs at its instruction; at that point
 * the counter already holds the whole block, so the callback subtracts the instructions of the
 * block from the marker onwards. The count between two markers is thus exact: the instructions
 * executed after the first marker's instruction started, up to (not including) the second's.
 * QEMU runs guest code deterministically, so the counts are the same on every run.
 *
 * With hot=FILE it also counts how often each translated block runs, and at exit writes one line
 * per block that ran: "ADDR INSNS RUNS" (hex start address, its instructions, its executions),
 * for finding the hot loops of a whole run (emulation/hotspots.py maps them to functions).
 *
 * With vcpus=1 it also counts each vCPU's instructions (a callback per executed block: in QEMU's
 * user mode every guest thread is a vCPU, so a threaded program's work per thread) and writes
 * "vcpu I N" lines at exit.
 *
 * With classes=1 it also counts the executed instructions of each timing class (classify(): by
 * mnemonic; the classes sum to the instruction count), the registers moved by load/store-multiple
 * instructions, and the control-flow instructions that were taken (a block ending in one is
 * "taken" when the next block to run does not start right after it). emulation/cycles.py turns
 * these into an estimate of cycles from a core's documented timings. The file then starts with
 * "classes NAME ..." (the NS names) and every inference's line is followed by a line "classes"
 * with NS numbers for the whole inference and NS for each layer. This mode runs a callback per
 * executed block, so it is slower.
 *
 * Built by emulation/profile.py with: gcc -shared -fPIC -O2 -I<dir of qemu-plugin.h> icount.c
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum { M_BEGIN, M_END, M_LAYER_BEGIN, M_LAYER_END, M_COUNT };

static const char *const marker_names[M_COUNT] = {"begin", "end", "layer_begin", "layer_end"};
static uint64_t marker_addr[M_COUNT];
static int marker_set[M_COUNT];

/* Timing classes of an instruction (Thumb-2, DSP extension, FP, MVE), then two extra counts. */
enum {
    C_ALU,       /* data processing, moves, compares, saturation, packing, IT, ... */
    C_MUL,       /* MUL, SMULxy, SMUAD, SMUSD: a 32-bit product, no accumulate */
    C_MLA,       /* MLA, MLS, SMLAxy, SMLAD, SMLSD, SMLAWx: 32-bit multiply-accumulate */
    C_MULL,      /* SMULL, UMULL, SMMUL, SMMLA, SMMLS: a 64-bit product (or its top half) */
    C_MLAL,      /* SMLAL(xy/D), UMLAL, UMAAL, SMLSLD: 64-bit accumulate */
    C_DIV,       /* SDIV, UDIV */
    C_LDST,      /* a single load or store */
    C_LDST_NEXT, /* a single load or store right after another one (the M3/M4 pipeline these) */
    C_MULTI,     /* LDM, STM, PUSH, POP, LDRD, STRD, VPUSH, VPOP, VLDM, VSTM (registers in S_REGS) */
    C_BRANCH,    /* B, BL, BX, BLX, CBZ, CBNZ, TBB, TBH */
    C_LOOP,      /* Armv8.1-M low-overhead loops: DLS, WLS, LE, LETP, ... */
    C_VLDST,     /* FP / MVE loads and stores */
    C_VEC,       /* other FP / MVE instructions */
    NC,
    S_REGS = NC, /* registers moved by C_MULTI instructions */
    S_TAKEN,     /* executed control-flow instructions that transferred control */
    NS
};
static const char *const class_names[NS] = {"alu", "mul", "mla", "mull", "mlal", "div", "ldst", "ldst_next",
                                            "multi", "branch", "loop", "vldst", "vec", "regs", "taken"};

static uint64_t counter;     /* instructions executed so far (inline adds per block) */
static int in_inference;
static uint64_t t_begin;     /* counter at the inference's begin marker */
static uint64_t t_layer;     /* counter at the current layer's begin marker */
static uint64_t *layers;     /* instructions per layer of the current inference */
static size_t n_layers, cap_layers;
static int in_layer;
static FILE *out;

static int classes_on;

/* hot=FILE: every translated block's start, size and executions (an inline add per run). */
struct hot_block {
    uint64_t start;
    uint64_t insns;
    uint64_t runs;
    struct hot_block *next;
};
static struct hot_block *hot_blocks;
static FILE *hot_out;

/* vcpus=1: instructions per vCPU (each written only by its own vCPU's thread). */
#define MAX_VCPUS 256
static int vcpus_on;
static uint64_t vcpu_count[MAX_VCPUS];
static unsigned int vcpu_seen; /* highest index + 1 (updated at exit from the counts) */

static void on_block_vcpu(unsigned int vcpu_index, void *udata)
{
    if (vcpu_index < MAX_VCPUS) {
        vcpu_count[vcpu_index] += (uint64_t)(uintptr_t)udata;
    }
}

static uint64_t cls[NS];        /* per class, executed so far (classes=1) */
static uint64_t cls_begin[NS];  /* at the inference's begin marker */
static uint64_t cls_layer[NS];  /* at the current layer's begin marker */
static uint64_t *layer_cls;     /* NS per layer of the current inference */

/* What a translated block adds when it runs, and how it ends (classes=1). */
struct block {
    uint64_t counts[NS];
    uint64_t start;              /* the address of its first instruction */
    uint64_t fallthrough;        /* the address right after its last instruction */
    int ends_in_control;         /* its last instruction may transfer control */
};
static const struct block *prev_block; /* the block that ran last (the cores here have one vCPU) */

/* A marker's instruction: which marker, and what of its block is still to run at that point
 * (the instructions from the marker on, and their classes). */
struct marker_at {
    int marker;
    uint64_t remaining;
    uint64_t rem[NS];
};

static void *checked(void *p)
{
    if (p == NULL) {
        fprintf(stderr, "edgenn icount plugin: out of memory\n");
        abort();
    }
    return p;
}

static void snapshot(uint64_t *dst, const struct marker_at *at)
{
    int k;
    for (k = 0; k < NS; k++) {
        dst[k] = cls[k] - at->rem[k];
    }
}

static void on_marker(unsigned int vcpu_index, void *udata)
{
    const struct marker_at *at = udata;
    uint64_t now = counter - at->remaining;
    size_t i;
    int k;
    (void)vcpu_index;
    switch (at->marker) {
    case M_BEGIN:
        in_inference = 1;
        in_layer = 0;
        n_layers = 0;
        t_begin = now;
        snapshot(cls_begin, at);
        break;
    case M_LAYER_BEGIN:
        if (in_inference) {
            in_layer = 1;
            t_layer = now;
            snapshot(cls_layer, at);
        }
        break;
    case M_LAYER_END:
        if (in_inference && in_layer) {
            if (n_layers == cap_layers) {
                cap_layers = cap_layers ? 2 * cap_layers : 64;
                layers = checked(realloc(layers, cap_layers * sizeof *layers));
                layer_cls = checked(realloc(layer_cls, cap_layers * NS * sizeof *layer_cls));
            }
            layers[n_layers] = now - t_layer;
            for (k = 0; k < NS; k++) {
                layer_cls[n_layers * NS + (size_t)k] = cls[k] - at->rem[k] - cls_layer[k];
            }
            n_layers++;
            in_layer = 0;
        }
        break;
    case M_END:
        if (in_inference) {
            fprintf(out, "%" PRIu64, now - t_begin);
            for (i = 0; i < n_layers; i++) {
                fprintf(out, " %" PRIu64, layers[i]);
            }
            fputc('\n', out);
            if (classes_on) {
                fputs("classes", out);
                for (k = 0; k < NS; k++) {
                    fprintf(out, " %" PRIu64, cls[k] - at->rem[k] - cls_begin[k]);
                }
                for (i = 0; i < n_layers * NS; i++) {
                    fprintf(out, " %" PRIu64, layer_cls[i]);
                }
                fputc('\n', out);
            }
            fflush(out);
            in_inference = 0;
        }
        break;
    default:
        break;
    }
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int one_of(const char *s, const char *const *names)
{
    for (; *names != NULL; names++) {
        if (strcmp(s, *names) == 0) {
            return 1;
        }
    }
    return 0;
}

static int any_prefix(const char *s, const char *const *prefixes)
{
    for (; *prefixes != NULL; prefixes++) {
        if (starts(s, *prefixes)) {
            return 1;
        }
    }
    return 0;
}

/* Registers in a {...} list: "r4, r5, lr", or ranges such as "r4-r7" and "d8-d15". */
static int register_count(const char *ops)
{
    const char *p = strchr(ops, '{');
    int n = 0;
    if (p == NULL) {
        return 0;
    }
    p++;
    while (*p != '\0' && *p != '}') {
        const char *dash;
        const char *end = p;
        while (*end != '\0' && *end != ',' && *end != '}') {
            end++;
        }
        dash = memchr(p, '-', (size_t)(end - p));
        if (dash != NULL) {
            const char *a = p, *b = dash + 1;
            while (*a == ' ' || isalpha((unsigned char)*a)) {
                a++;
            }
            while (*b == ' ' || isalpha((unsigned char)*b)) {
                b++;
            }
            n += (int)(strtol(b, NULL, 10) - strtol(a, NULL, 10)) + 1;
        } else if (end > p) {
            n++;
        }
        p = *end == ',' ? end + 1 : end;
    }
    return n;
}

/* B, BL, BX, BLX, CBZ, CBNZ, TBB, TBH, with or without a condition (b<cc>, bx<cc> in IT blocks). */
static int is_branch(const char *m)
{
    static const char *const names[] = {"b", "bl", "blx", "bx", "cbz", "cbnz", "tbb", "tbh", "bxns", "blxns", NULL};
    static const char *const conds[] = {"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls",
                                        "ge", "lt", "gt", "le", "al", NULL};
    if (one_of(m, names)) {
        return 1;
    }
    if (m[0] == 'b' && one_of(m + 1, conds)) {
        return 1;
    }
    return (starts(m, "bx") || starts(m, "bl")) && strlen(m) == 4 && one_of(m + 2, conds);
}

/* The timing class of one instruction from its disassembly; *regs: registers of a load/store
 * multiple; *control: whether it may transfer control (a branch, a loop end, a write to pc). */
static int classify(const char *disas, int *regs, int *control)
{
    static const char *const loop_ends[] = {"le", "letp", "wls", "wlstp", NULL};
    static const char *const loop_starts[] = {"dls", "dlstp", "lctp", NULL};
    static const char *const mlal[] = {"smlal", "umlal", "umaal", "smlsld", NULL};
    static const char *const mull[] = {"smull", "umull", "smmul", "smmla", "smmls", NULL};
    static const char *const mla[] = {"mla", "mls", "smla", "smlsd", "usada8", NULL};
    static const char *const mul[] = {"mul", "smul", "smuad", "smusd", "usad8", NULL};
    static const char *const vldst[] = {"vldr", "vstr", "vld", "vst", NULL};
    static const char *const vmulti[] = {"vpush", "vpop", "vldm", "vldmia", "vldmdb", "vstm", "vstmia", "vstmdb", NULL};
    char m[16];
    size_t i = 0;
    const char *p = disas;
    const char *ops;
    char *dot;
    *regs = 0;
    *control = 0;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    while (p[i] != '\0' && p[i] != ' ' && p[i] != '\t' && i < sizeof m - 1) {
        m[i] = (char)tolower((unsigned char)p[i]);
        i++;
    }
    m[i] = '\0';
    ops = p + i;
    while (*ops == ' ' || *ops == '\t') {
        ops++;
    }
    dot = strchr(m, '.');
    if (dot != NULL) {
        *dot = '\0'; /* ".w", ".n", MVE element types */
    }
    if (one_of(m, loop_ends) || one_of(m, loop_starts)) {
        *control = one_of(m, loop_ends);
        return C_LOOP;
    }
    if (is_branch(m)) {
        *control = 1;
        return C_BRANCH;
    }
    if (one_of(m, vmulti)) {
        *regs = register_count(ops);
        return C_MULTI;
    }
    if (m[0] == 'v') {
        return any_prefix(m, vldst) ? C_VLDST : C_VEC;
    }
    if (starts(m, "ldrd") || starts(m, "strd")) {
        *regs = 2;
        return C_MULTI;
    }
    if (starts(m, "ldm") || starts(m, "stm") || starts(m, "push") || starts(m, "pop")) {
        *regs = register_count(ops);
        *control = (starts(m, "ldm") || starts(m, "pop")) && strstr(ops, "pc") != NULL;
        return C_MULTI;
    }
    *control = starts(ops, "pc"); /* ldr pc, mov pc, add pc */
    if (starts(m, "ldr") || starts(m, "str")) {
        return C_LDST;
    }
    if (any_prefix(m, mlal)) {
        return C_MLAL;
    }
    if (any_prefix(m, mull)) {
        return C_MULL;
    }
    if (any_prefix(m, mla)) {
        return C_MLA;
    }
    if (any_prefix(m, mul)) {
        return C_MUL;
    }
    if (starts(m, "sdiv") || starts(m, "udiv")) {
        return C_DIV;
    }
    return C_ALU;
}

/* A block starts running (classes=1): the previous block's control transfer resolves, then this
 * block's classes count. */
static void on_block(unsigned int vcpu_index, void *udata)
{
    const struct block *b = udata;
    int k;
    (void)vcpu_index;
    if (prev_block != NULL && prev_block->ends_in_control && b->start != prev_block->fallthrough) {
        cls[S_TAKEN]++;
    }
    for (k = 0; k < NS; k++) {
        cls[k] += b->counts[k];
    }
    prev_block = b;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    size_t i;
    int m;
    struct block *blk = NULL;
    int *cls_of = NULL;  /* per instruction: its class, */
    int *regs_of = NULL; /* and its registers moved */
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &counter, n);
    if (vcpus_on && n > 0) {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block_vcpu, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)n);
    }
    if (hot_out != NULL && n > 0) {
        struct hot_block *h = checked(calloc(1, sizeof *h));
        h->start = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0));
        h->insns = n;
        h->next = hot_blocks;
        hot_blocks = h;
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &h->runs, 1);
    }
    if (classes_on) {
        int prev_ldst = 0;
        /* Blocks are translated once and may run until the end: they live as long as QEMU. */
        blk = checked(calloc(1, sizeof *blk));
        cls_of = checked(calloc(n ? n : 1, sizeof *cls_of));
        regs_of = checked(calloc(n ? n : 1, sizeof *regs_of));
        for (i = 0; i < n; i++) {
            struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
            char *text = qemu_plugin_insn_disas(insn);
            int regs, control;
            int c = classify(text != NULL ? text : "", &regs, &control);
            free(text);
            if (c == C_LDST && prev_ldst) {
                c = C_LDST_NEXT;
            }
            prev_ldst = c == C_LDST || c == C_LDST_NEXT;
            cls_of[i] = c;
            regs_of[i] = regs;
            blk->counts[c]++;
            blk->counts[S_REGS] += (uint64_t)regs;
            if (i == 0) {
                blk->start = qemu_plugin_insn_vaddr(insn);
            }
            if (i + 1 == n) {
                blk->fallthrough = qemu_plugin_insn_vaddr(insn) + qemu_plugin_insn_size(insn);
                blk->ends_in_control = control;
            }
        }
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, blk);
    }
    for (i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t addr = qemu_plugin_insn_vaddr(insn);
        for (m = 0; m < M_COUNT; m++) {
            if (marker_set[m] && addr == marker_addr[m]) {
                struct marker_at *at = checked(calloc(1, sizeof *at));
                at->marker = m;
                at->remaining = n - i;
                if (classes_on) {
                    size_t j;
                    for (j = i; j < n; j++) {
                        at->rem[cls_of[j]]++;
                        at->rem[S_REGS] += (uint64_t)regs_of[j];
                    }
                }
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS, at);
            }
        }
    }
    free(cls_of);
    free(regs_of);
}

static void plugin_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    if (out != NULL) {
        unsigned int v;
        for (v = 0; v < MAX_VCPUS; v++) {
            if (vcpu_count[v] != 0) {
                vcpu_seen = v + 1;
            }
        }
        for (v = 0; vcpus_on && v < vcpu_seen; v++) {
            fprintf(out, "vcpu %u %" PRIu64 "\n", v, vcpu_count[v]);
        }
        fprintf(out, "total %" PRIu64 "\n", counter);
        fclose(out);
        out = NULL;
    }
    if (hot_out != NULL) {
        const struct hot_block *h;
        for (h = hot_blocks; h != NULL; h = h->next) {
            if (h->runs != 0) {
                fprintf(hot_out, "%" PRIx64 " %" PRIu64 " %" PRIu64 "\n", h->start, h->insns, h->runs);
            }
        }
        fclose(hot_out);
        hot_out = NULL;
    }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    const char *path = NULL;
    int i;
    int m;
    (void)info;
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        int known = 0;
        if (eq == NULL) {
            fprintf(stderr, "edgenn icount plugin: bad argument '%s' (expected key=value)\n", arg);
            return -1;
        }
        if (strncmp(arg, "out=", 4) == 0) {
            path = eq + 1;
            continue;
        }
        if (strncmp(arg, "hot=", 4) == 0) {
            hot_out = fopen(eq + 1, "w");
            if (hot_out == NULL) {
                fprintf(stderr, "edgenn icount plugin: cannot open %s\n", eq + 1);
                return -1;
            }
            continue;
        }
        if (strncmp(arg, "vcpus=", 6) == 0) {
            vcpus_on = strcmp(eq + 1, "0") != 0;
            continue;
        }
        if (strncmp(arg, "classes=", 8) == 0) {
            classes_on = strcmp(eq + 1, "0") != 0;
            continue;
        }
        for (m = 0; m < M_COUNT; m++) {
            size_t len = strlen(marker_names[m]);
            if ((size_t)(eq - arg) == len && strncmp(arg, marker_names[m], len) == 0) {
                marker_addr[m] = strtoull(eq + 1, NULL, 0) & ~(uint64_t)1; /* drop the Thumb bit */
                marker_set[m] = 1;
                known = 1;
            }
        }
        if (!known) {
            fprintf(stderr, "edgenn icount plugin: unknown argument '%s'\n", arg);
            return -1;
        }
    }
    /* Without markers only the total is written (a whole process, e.g. another runtime's). */
    if (path == NULL || marker_set[M_BEGIN] != marker_set[M_END]) {
        fprintf(stderr, "edgenn icount plugin: needs out=FILE, and begin=ADDR with end=ADDR (or neither)\n");
        return -1;
    }
    out = fopen(path, "w");
    if (out == NULL) {
        fprintf(stderr, "edgenn icount plugin: cannot open %s\n", path);
        return -1;
    }
    if (classes_on) {
        fputs("classes", out);
        for (m = 0; m < NS; m++) {
            fprintf(out, " %s", class_names[m]);
        }
        fputc('\n', out);
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
    return 0;
}
