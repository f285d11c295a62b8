/* Build settings of the network stack. Every one can be overridden with
 * -D on the command line (the Makefile maps `make NAME=value` onto these);
 * each is checked here so a bad value stops the build with a clear error. */
#ifndef NET_CONFIG_H
#define NET_CONFIG_H

/* Addresses in host byte order, e.g. 0xC0A80702 for 192.168.7.2. The
 * Makefile parses dotted-quad IP=/NETMASK=/GATEWAY= into these. */
#ifndef NET_IP_ADDR
#define NET_IP_ADDR 0xC0A80702u
#endif
#ifndef NET_NETMASK
#define NET_NETMASK 0xFFFFFF00u
#endif
#ifndef NET_GATEWAY
#define NET_GATEWAY 0u /* 0: no gateway, off-subnet traffic is dropped */
#endif
/* Used only when the NIC has no MAC address programmed (all zero). */
#ifndef NET_MAC_FALLBACK
#define NET_MAC_FALLBACK 0x02, 0x00, 0x00, 0x12, 0x34, 0x56
#endif

#ifndef ARP_CACHE_SIZE
#define ARP_CACHE_SIZE 4
#endif
#ifndef ARP_TIMEOUT_MS /* cache entry lifetime */
#define ARP_TIMEOUT_MS 60000u
#endif
#ifndef ARP_RETRY_MS /* minimum gap between requests for one address */
#define ARP_RETRY_MS 1000u
#endif

#ifndef TCP_MAX_CONNS
#define TCP_MAX_CONNS 8
#endif
/* Half-open (SYN-RECEIVED) connections kept in the table; beyond that a
 * SYN is answered with a SYN cookie and costs no state. */
#ifndef TCP_MAX_HALF_OPEN
#define TCP_MAX_HALF_OPEN ((TCP_MAX_CONNS + 1) / 2)
#endif
/* Challenge ACKs (RFC 5961 7) sent per second at most, all connections. */
#ifndef TCP_CHALLENGE_PER_S
#define TCP_CHALLENGE_PER_S 25
#endif
#ifndef TCP_MAX_LISTENERS
#define TCP_MAX_LISTENERS 4
#endif
#ifndef TCP_MAX_APPS /* distinct application callback sets */
#define TCP_MAX_APPS 6
#endif
/* Per-connection send buffer (unacknowledged plus unsent bytes); a power
 * of two so a byte's slot is simply its sequence number masked. */
#ifndef TCP_TXBUF
#define TCP_TXBUF 1024
#endif
/* Receive window offered when the application gives no window callback
 * (it consumes data as it arrives, so no buffer stands behind it). */
#ifndef TCP_WND
#define TCP_WND 4096
#endif
#ifndef TCP_MSS /* our MSS: 1500 - 20 (IP) - 20 (TCP) */
#define TCP_MSS 1460
#endif
#ifndef TCP_MSL_MS /* TIME-WAIT lasts 2 * MSL (RFC 9293 3.4.2) */
#define TCP_MSL_MS 120000u
#endif
#ifndef TCP_RTO_INIT_MS /* RFC 6298 2.1 */
#define TCP_RTO_INIT_MS 1000u
#endif
#ifndef TCP_RTO_MIN_MS /* RFC 6298 2.4 says 1 s; 200 ms as Linux, see README */
#define TCP_RTO_MIN_MS 200u
#endif
#ifndef TCP_RTO_MAX_MS /* RFC 6298 2.5: at least 60 s */
#define TCP_RTO_MAX_MS 60000u
#endif
#ifndef TCP_MAX_RETRIES /* retransmissions of one segment before abort */
#define TCP_MAX_RETRIES 8
#endif
/* SYN retransmissions: RFC 9293 3.8.3 (MUST-23) wants at least 3 minutes;
 * with a 1 s initial RTO doubling up to TCP_RTO_MAX_MS, 7 give 183 s. */
#ifndef TCP_SYN_RETRIES
#define TCP_SYN_RETRIES 7
#endif
/* SYN,ACK retransmissions of a half-open connection (as Linux: 63 s). */
#ifndef TCP_SYNACK_RETRIES
#define TCP_SYNACK_RETRIES 5
#endif
/* RFC 1122 4.2.3.2: under 500 ms. 100, not 200: Linux's minimum RTO is
 * 200 ms, and a lone segment of a fresh connection was resent for nothing. */
#ifndef TCP_ACK_DELAY_MS
#define TCP_ACK_DELAY_MS 100u
#endif
/* Timers count down in ticks of this many ms; 16-bit counters hold
 * 65535 ticks, i.e. 524 s at 8 ms, which must cover 2 * MSL. */
#ifndef TCP_TICK_MS
#define TCP_TICK_MS 8u
#endif
#ifndef NET_TRACE_DEFAULT /* console trace on at boot */
#define NET_TRACE_DEFAULT 0
#endif

#define NET_FRAME_MAX 1514 /* Ethernet II without FCS */

#if (NET_NETMASK & ((~NET_NETMASK & 0xFFFFFFFFu) >> 1)) != 0
#error "NETMASK must be contiguous ones then zeros (e.g. 255.255.255.0)"
#endif
#if NET_IP_ADDR == 0 || (NET_IP_ADDR & ~NET_NETMASK) == 0 || (NET_IP_ADDR | NET_NETMASK) == 0xFFFFFFFFu
#error "IP must be a host address inside its subnet (not 0, network or broadcast)"
#endif
#if ARP_CACHE_SIZE < 1 || ARP_CACHE_SIZE > 64
#error "ARP_CACHE_SIZE must be 1..64"
#endif
#if TCP_MAX_CONNS < 1 || TCP_MAX_CONNS > 64
#error "TCP_MAX_CONNS (connection table size) must be 1..64"
#endif
#if TCP_MAX_HALF_OPEN < 1 || TCP_MAX_HALF_OPEN > TCP_MAX_CONNS
#error "TCP_MAX_HALF_OPEN must be 1..TCP_MAX_CONNS"
#endif
#if TCP_CHALLENGE_PER_S < 1 || TCP_CHALLENGE_PER_S > 65535
#error "TCP_CHALLENGE_PER_S must be 1..65535"
#endif
#if TCP_MAX_LISTENERS < 1 || TCP_MAX_LISTENERS > 32
#error "TCP_MAX_LISTENERS must be 1..32"
#endif
#if TCP_MAX_APPS < 1 || TCP_MAX_APPS > 16
#error "TCP_MAX_APPS must be 1..16"
#endif
#if TCP_TXBUF < 64 || TCP_TXBUF > 32768 || (TCP_TXBUF & (TCP_TXBUF - 1)) != 0
#error "TCP_TXBUF must be a power of two between 64 and 32768"
#endif
#if TCP_WND < 1 || TCP_WND > 65535
#error "TCP_WND must be 1..65535 (no window scaling)"
#endif
#if TCP_MSS < 88 || TCP_MSS > 1460
#error "TCP_MSS must be 88..1460"
#endif
#if TCP_MSL_MS < 1 || (2 * (TCP_MSL_MS / TCP_TICK_MS)) > 65535
#error "TCP_MSL_MS must be >= 1 and 2*MSL must fit 65535 ticks of TCP_TICK_MS"
#endif
#if TCP_RTO_MAX_MS / TCP_TICK_MS > 65535 || TCP_RTO_MIN_MS < TCP_TICK_MS
#error "TCP_RTO_MIN_MS/TCP_RTO_MAX_MS out of range for TCP_TICK_MS"
#endif
#if TCP_MAX_RETRIES < 1 || TCP_MAX_RETRIES > 15 || TCP_SYN_RETRIES < 1 || TCP_SYN_RETRIES > 15 || \
    TCP_SYNACK_RETRIES < 1 || TCP_SYNACK_RETRIES > 15
#error "TCP_MAX_RETRIES, TCP_SYN_RETRIES and TCP_SYNACK_RETRIES must be 1..15"
#endif

#endif
