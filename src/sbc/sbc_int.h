/**
 * @file sbc_int.h  Inside the SBC: what sbc.c, sbcreg.c and sbccall.c
 *                  share. Include after <re.h>.
 *
 * Two SIP stacks, one per side: a request toward a side always leaves by
 * that side's interface, and nothing received on one side is written on
 * the other except what these files copy on purpose (user parts, display
 * names, bodies after SDP rewriting, a short list of headers).
 *
 * Media: the SBC has its own struct media on its RTP range; side A of
 * every mcall/mneg is the public side, side B the private side, whoever
 * called (media_conf.address = IP2, address_b = IP3).
 */

#ifndef RELAIS_SBC_INT_H
#define RELAIS_SBC_INT_H

#include "sbc/sbc.h"

struct sipstack;
struct sipsess_sock;
struct sip_lsnr;
struct media;
struct sipfilter;

/** MEDIA_SIDE_A / MEDIA_SIDE_B of the SBC's calls */
enum sbc_side_id {
	SBC_PUBLIC = 0,
	SBC_PRIVATE = 1,
};

struct sbc_side {
	enum sbc_side_id id;
	struct sipstack *ss;
	struct sip *sip;	     /**< sipstack_sip(ss)                */
	struct sipfilter *filter;    /**< malformed requests get 400      */
	struct sipsess_sock *sock;   /**< sbccall.c                       */
	struct sip_lsnr *lsnr_guard; /**< public side: first listener     */
	struct sip_lsnr *lsnr_guard_rsp; /**< responses from denied sources */
	struct sip_lsnr *lsnr_reg;	 /**< sbcreg.c                       */
};

/**
 * A phone (or, in LAN mode, the WAN element's phone) registered through
 * the SBC. The PBX knows it by Contact sip:TOKEN@IP4:port; the phone is
 * reached at peer over tp (the flow its REGISTER came by: through NAT,
 * over its own TLS connection).
 */
struct sbc_binding {
	struct le he;	   /**< in sbc->bindings, key: hash of token */
	char token[24];	   /**< "rw" + 16 hex digits                 */
	char user[64];	   /**< AOR user (To of the REGISTER)       */
	char contact[256]; /**< the phone's own Contact URI         */
	struct sa peer;	   /**< source of its REGISTER              */
	int tp;		   /**< enum sip_transp of that REGISTER    */
	int64_t expires;   /**< Unix seconds                        */
};

struct sbc {
	struct sbc_conf conf;
	const struct relais_config *cfg;
	struct store *st;
	struct guard *guard;
	struct media *media;
	struct sbc_side pub;
	struct sbc_side priv;
	struct hash *bindings; /**< struct sbc_binding, by token       */
	struct list calls;     /**< sbccall.c's calls                  */
	struct list regs;      /**< sbcreg.c's REGISTERs in progress   */
	struct tmr tmr;	       /**< 1 s: guard_expire, binding expiry  */
	uint64_t calls_total;
	uint64_t registers_total;
	bool closing; /**< sbc_shutdown() was called            */
};

/* ---- sbc.c -------------------------------------------------------------- */

uint64_t sbc_now_ms(void);
struct sbc_side *sbc_other(struct sbc *s, const struct sbc_side *side);
/** The address written toward a side: its NAT address (IP1 / IP4) */
const struct sa *sbc_side_nat(const struct sbc *s,
			      const struct sbc_side *side);
/** sip_transp to use toward a side's peers by default (public: TLS if
    enabled; private: conf.pbx_tp) */
int sbc_side_tp(const struct sbc *s, const struct sbc_side *side);
/** Dropped requests/responses counted by the guard listener */
void sbc_guard_note_auth(struct sbc *s, const struct sa *src, bool had_creds,
			 uint16_t scode);

/* ---- sbcreg.c: registrations through the SBC ----------------------------- */

int sbcreg_init(struct sbc *s);
void sbcreg_close(struct sbc *s);
/** By Contact user (the token the PBX calls) */
struct sbc_binding *sbcreg_find(const struct sbc *s, const struct pl *token);
/** Drop expired bindings (timer) */
void sbcreg_expire(struct sbc *s, int64_t now);
uint32_t sbcreg_count(const struct sbc *s);

/* ---- sbccall.c: calls through the SBC ------------------------------------ */

int sbccall_init(struct sbc *s);
void sbccall_close(struct sbc *s);
void sbccall_shutdown(struct sbc *s);
uint32_t sbccall_count(const struct sbc *s);
void sbccall_media_timeout(struct sbc *s, const char *tag);

#endif
