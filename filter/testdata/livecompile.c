/*
 * livecompile: print libpcap's program for an expression compiled on a live
 * handle (pcap_create + pcap_activate), the way libpcap compiles for a
 * Linux packet socket (VLAN tags as ancillary loads).
 *
 *   livecompile DEVICE EXPR [-O]   (-O: unoptimized)
 *
 * Output: the link type name, then the program in tcpdump -ddd form
 * (count first), or "ERROR message".
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	pcap_t *p;
	int opt;
	u_int i;

	if (argc < 3) {
		fprintf(stderr, "usage: livecompile DEVICE EXPR [-O]\n");
		return 2;
	}
	p = pcap_create(argv[1], err);
	if (p == NULL) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (pcap_activate(p) < 0) {
		fprintf(stderr, "%s\n", pcap_geterr(p));
		return 2;
	}
	opt = !(argc > 3 && strcmp(argv[3], "-O") == 0);
	printf("%s\n", pcap_datalink_val_to_name(pcap_datalink(p)));
	if (pcap_compile(p, &prog, argv[2], opt, PCAP_NETMASK_UNKNOWN) < 0) {
		printf("ERROR %s\n", pcap_geterr(p));
		return 0;
	}
	printf("%u\n", prog.bf_len);
	for (i = 0; i < prog.bf_len; i++)
		printf("%u %u %u %u\n", prog.bf_insns[i].code, prog.bf_insns[i].jt,
		    prog.bf_insns[i].jf, prog.bf_insns[i].k);
	pcap_freecode(&prog);
	pcap_close(p);
	return 0;
}
