/*
 * bpfharness: runs classic BPF programs with libpcap's own interpreter,
 * bpf_filter(), for pkttap's filter/vm tests and benchmarks.
 *
 * Build: cc -O2 -o bpfharness bpfharness.c -lpcap
 *
 *   bpfharness dump CAPTURE
 *       Reads CAPTURE (pcap or pcapng) with pcap_open_offline and writes its
 *       packets to stdout as PACKETS records (below), after one line
 *       "LINKTYPE_NAME\n".
 *   bpfharness run PROGRAMS PACKETS
 *       For every program: a little-endian uint32 that is 1 when
 *       bpf_validate accepts it, then (if accepted) one uint32 per packet:
 *       bpf_filter's return value.
 *   bpfharness validate PROGRAMS
 *       For every program, a little-endian uint32: 1 when bpf_validate
 *       accepts it, else 0. Nothing is run.
 *   bpfharness serve PROGRAMS PACKETS
 *       Loads everything, then for each line "I FROM TO" read from stdin
 *       runs program I once over packets FROM to TO-1 and prints one line:
 *       the nanoseconds that took and the number of accepted packets. This
 *       lets a caller interleave libpcap's work with its own.
 *   bpfharness bench PROGRAMS PACKETS ROUNDS
 *       For every program, runs bpf_filter over all packets ROUNDS times and
 *       prints one line: the best and the median nanoseconds per packet over
 *       the rounds, and the number of accepted packets of one round.
 *
 * PROGRAMS: repeated { uint32 n; n x { uint16 code; uint8 jt; uint8 jf;
 * uint32 k } }, little-endian. PACKETS: repeated { uint32 caplen; uint32
 * wirelen; caplen bytes }, little-endian.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pkt {
	uint32_t caplen, wirelen;
	u_char *data;
};

static u_char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	size_t cap = 1 << 16, n = 0, r;
	u_char *b = malloc(cap);
	while ((r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			b = realloc(b, cap *= 2);
	}
	fclose(f);
	*len = n;
	return b;
}

static uint32_t le32(const u_char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static struct bpf_program *read_programs(const char *path, size_t *count)
{
	size_t len, off = 0, n = 0, cap = 64;
	u_char *b = slurp(path, &len);
	struct bpf_program *v = malloc(cap * sizeof(*v));
	while (off + 4 <= len) {
		uint32_t ni = le32(b + off);
		off += 4;
		if (off + (size_t)ni * 8 > len) {
			fprintf(stderr, "%s: truncated program\n", path);
			exit(2);
		}
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
		v[n].bf_len = ni;
		v[n].bf_insns = calloc(ni ? ni : 1, sizeof(struct bpf_insn));
		for (uint32_t i = 0; i < ni; i++, off += 8) {
			v[n].bf_insns[i].code = (u_short)(b[off] | b[off + 1] << 8);
			v[n].bf_insns[i].jt = b[off + 2];
			v[n].bf_insns[i].jf = b[off + 3];
			v[n].bf_insns[i].k = le32(b + off + 4);
		}
		n++;
	}
	*count = n;
	return v;
}

static struct pkt *read_packets(const char *path, size_t *count)
{
	size_t len, off = 0, n = 0, cap = 1024;
	u_char *b = slurp(path, &len);
	struct pkt *v = malloc(cap * sizeof(*v));
	while (off + 8 <= len) {
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
		v[n].caplen = le32(b + off);
		v[n].wirelen = le32(b + off + 4);
		off += 8;
		if (off + v[n].caplen > len) {
			fprintf(stderr, "%s: truncated packet\n", path);
			exit(2);
		}
		/* packets stay where they are in the file's bytes, one after
		 * the other as in a capture buffer (and as the Go side holds
		 * them) */
		v[n].data = b + off;
		off += v[n].caplen;
		n++;
	}
	*count = n;
	return v;
}

static void put32(uint32_t x)
{
	u_char b[4] = {x, x >> 8, x >> 16, x >> 24};
	fwrite(b, 1, 4, stdout);
}

static int dump(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (p == NULL) {
		fprintf(stderr, "%s: %s\n", path, errbuf);
		return 3;
	}
	const char *name = pcap_datalink_val_to_name(pcap_datalink(p));
	printf("%s\n", name ? name : "?");
	struct pcap_pkthdr *h;
	const u_char *d;
	int r;
	while ((r = pcap_next_ex(p, &h, &d)) == 1) {
		put32(h->caplen);
		put32(h->len);
		fwrite(d, 1, h->caplen, stdout);
	}
	if (r == -1)
		fprintf(stderr, "%s: warning: %s\n", path, pcap_geterr(p));
	pcap_close(p);
	return 0;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "dump") == 0)
		return dump(argv[2]);
	if (argc == 3 && strcmp(argv[1], "validate") == 0) {
		size_t n;
		struct bpf_program *v = read_programs(argv[2], &n);
		for (size_t i = 0; i < n; i++)
			put32(v[i].bf_len > 0 &&
			    bpf_validate(v[i].bf_insns, (int)v[i].bf_len));
		fflush(stdout);
		return 0;
	}
	if (argc < 4 || (strcmp(argv[1], "run") != 0 &&
	    strcmp(argv[1], "bench") != 0 && strcmp(argv[1], "serve") != 0)) {
		fprintf(stderr, "usage: bpfharness dump CAPTURE | validate PROGRAMS | run PROGRAMS PACKETS | serve PROGRAMS PACKETS | bench PROGRAMS PACKETS ROUNDS\n");
		return 2;
	}
	size_t np, nk;
	struct bpf_program *progs = read_programs(argv[2], &np);
	struct pkt *pk = read_packets(argv[3], &nk);
	if (strcmp(argv[1], "run") == 0) {
		for (size_t i = 0; i < np; i++) {
			int ok = progs[i].bf_len > 0 &&
			    bpf_validate(progs[i].bf_insns, (int)progs[i].bf_len);
			put32(ok);
			if (!ok)
				continue;
			for (size_t j = 0; j < nk; j++)
				put32(bpf_filter(progs[i].bf_insns, pk[j].data,
				    pk[j].wirelen, pk[j].caplen));
		}
		fflush(stdout);
		return 0;
	}
	if (strcmp(argv[1], "serve") == 0) {
		char line[64];
		while (fgets(line, sizeof(line), stdin) != NULL) {
			size_t i, from, to;
			if (sscanf(line, "%zu %zu %zu", &i, &from, &to) != 3 ||
			    i >= np || from > to || to > nk) {
				fprintf(stderr, "bad request %s", line);
				return 2;
			}
			const struct bpf_insn *insns = progs[i].bf_insns;
			size_t m = 0;
			double t0 = now_ns();
			for (size_t j = from; j < to; j++)
				m += bpf_filter(insns, pk[j].data, pk[j].wirelen,
				    pk[j].caplen) != 0;
			printf("%.0f %zu\n", now_ns() - t0, m);
			fflush(stdout);
		}
		return 0;
	}
	if (argc < 5) {
		fprintf(stderr, "bench needs ROUNDS\n");
		return 2;
	}
	int rounds = atoi(argv[4]);
	if (rounds < 1)
		rounds = 1;
	double *t = malloc(rounds * sizeof(*t));
	for (size_t i = 0; i < np; i++) {
		const struct bpf_insn *insns = progs[i].bf_insns;
		size_t matched = 0;
		for (int r = 0; r < rounds; r++) {
			size_t m = 0;
			double t0 = now_ns();
			for (size_t j = 0; j < nk; j++)
				m += bpf_filter(insns, pk[j].data, pk[j].wirelen,
				    pk[j].caplen) != 0;
			t[r] = (now_ns() - t0) / (double)nk;
			matched = m;
		}
		qsort(t, rounds, sizeof(*t), cmp_double);
		printf("%.3f %.3f %zu\n", t[0], t[rounds / 2], matched);
	}
	return 0;
}
