/*
 * What the pieces of the configuration share (common/ only, not an interface): the key
 * table's types, the parse state, and the helpers one piece calls in another.
 *   config.c        parsing: the key table, one value's syntax (set_key), the INI reader
 *                   and handler, the .env reader, loading and freeing, lookups
 *   config_check.c  validation and defaults: the keys' defaults, the network presets, the
 *                   checks that need the whole file (finish), [cluster], default directories
 *   config_json.c   the JSON form sent to the children (config_to_json, config_from_json)
 */
#ifndef AW_CONFIG_INT_H
#define AW_CONFIG_INT_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

enum sect { S_GLOBAL, S_CHAIN, S_WALLET, S_TOPIC, S_CLUSTER };
enum ktype { K_STR, K_LONG, K_DBL, K_LIST, K_TIME, K_PATH };

struct kdef {
	enum sect	 sect;
	const char	*name;
	enum ktype	 type;
	size_t		 off;
	const char	*def;		/* NULL: unset */
	double		 min, max;	/* numbers */
	const char	*choices;	/* "a|b|c" for strings, NULL = any */
};

/* The key table (config.c) and its length; the pieces use the names keys and NKEYS. */
extern const struct kdef config_keys[];
extern const size_t config_nkeys;
#define keys	config_keys
#define NKEYS	config_nkeys
#define CONFIG_MAXKEYS	128	/* at least NKEYS (checked in config.c) */

struct parse {
	struct config	*c;
	const char	*file;
	char		*dir;
	FILE		*fp;
	int		 line;
	char		*err;
	size_t		 errlen;
	int		 failed;
	char		*cur_section;	/* as written */
	enum sect	 sect;
	void		*obj;		/* struct base for the current section */
	unsigned char	 seen[5][64];	/* key seen in this section (duplicates) */
	int		 seen_global, seen_chain;
	unsigned char	 chain_set[CONFIG_MAXKEYS];	/* [chain] keys the file sets (network presets) */
};

/* config.c */
void	 perr(struct parse *p, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 free_list(char **l, size_t n);
const char *set_key(const struct kdef *k, void *obj, const char *val, const char *dir,
	    char *why, size_t whylen);
struct config_wallet *add_wallet(struct config *c, const char *name, int line);
struct config_topic *add_topic(struct config *c, uint32_t id, int line);
int	 valid_name(const char *s);

/* config_check.c */
void	 apply_defaults(enum sect s, void *obj);
void	 finish(struct parse *p, const struct config_overrides *ov);
struct config *config_new(void);
int	 config_cluster_open(struct parse *, const char *arg);
void	 config_cluster_key(struct parse *, const char *name);
void	 config_cluster_finish(struct parse *);

#endif
