/*
 * metrics_names.c — the name table of the shared-memory RPC metrics recorder.
 *
 * What: a dynahash in shared memory keyed, as pg_stat_statements keys its entries,
 *       by a fixed-size struct {database oid, zero-padded name} compared with memcmp.
 *       Names are counted per database (an entry keyed {db, ""} per database, up to
 *       feed_fusion.metrics_max_databases): service_role's names on
 *       feed_fusion.metrics_max_rpcs, app roles' names on
 *       feed_fusion.metrics_max_app_rpcs, the extension's own tracked names on a
 *       reserve of TRACKED_RESERVE, plus '_overflow' and '_overflow_app'; the table
 *       is sized for all of it (metrics_shm.c), so neither an app flood nor another
 *       database can take a name's room.  Beyond its quota a new name records under
 *       its database's '_overflow' (service) or '_overflow_app' (app), counted in
 *       overflow_calls; names idle for an hour with no slot left are evicted at the
 *       next flush (counted in evicted_names), so the cap is on concurrently active
 *       names.  Each backend keeps a small direct-mapped memo of the entries it has
 *       used (hash -> entry pointer), so a repeated name skips building the padded
 *       key and the dynahash probe; name_lookup() (metrics_shm_int.h) reads it.
 * Why:  apart from the slots and the flush protocol (metrics_shm.c), which only see
 *       a name as the entry a slot points at.  The hot path's lookup stays static
 *       inline in metrics_shm_int.h; only creation (under EXCLUSIVE) and eviction
 *       (at a flush) are called here.
 * Locking: mshm->lock (see metrics_shm.c) guards the table: lookups hold it in any
 *       mode, creating and removing entries EXCLUSIVE.  Memo: dynahash entries never
 *       move while they exist and are removed only by eviction, which bumps
 *       names_gen under EXCLUSIVE; a memo filled at generation g is therefore valid
 *       while names_gen == g, checked under the SHARED lock.
 */
#include "postgres.h"

#include "metrics_shm_int.h"

/* This backend's memo of name entries, valid while mshm->names_gen == memo_gen. */
NameMemo	memo[MEMO_SIZE];
uint64		memo_gen = 0;

/*
 * The name table's hash function: the same value from a zero-padded key, so the
 * hot path can hash only the name's bytes and pass the value in.
 */
uint32
name_key_hash(const void *key, Size keysize)
{
	const MetricsNameKey *k = (const MetricsNameKey *) key;

	return name_hash(k->dbid, k->name, strnlen(k->name, FF_RPC_NAME_MAX));
}

/* ----------------------------------------------------------------------
 * Name table (caller holds the lock; EXCLUSIVE for changes)
 * ---------------------------------------------------------------------- */

/* Create entry `key` of `kind` in database entry `db`; NULL when the table is full.  EXCLUSIVE. */
static MetricsName *
name_create(const MetricsNameKey *key, uint32 h, int kind, MetricsName *db, int64 minute)
{
	MetricsName *n;
	bool		found;

	if (mshm->names_total >= mshm->names_cap)
		return NULL;
	/* ENTER_NULL: returns NULL instead of raising when out of entries */
	n = hash_search_with_hash_value(m_names, key, h, HASH_ENTER_NULL, &found);
	if (n == NULL)
		return NULL;
	Assert(!found);
	n->nslots = 0;
	n->cur_slot = -1;
	n->last_minute = minute;
	n->kind = kind;
	n->db = db;
	memset(n->nnames, 0, sizeof(n->nnames));
	if (db != NULL)
		db->nnames[kind]++;
	mshm->names_total++;
	if (kind == NK_DB)
		mshm->ndbs++;
	else if (kind == NK_OVERFLOW)
		mshm->names_overflow++;
	else
		mshm->names_regular++;
	return n;
}

/* Forget entry n (no slots refer to it), keeping every count right.  EXCLUSIVE. */
static void
name_remove(MetricsName *n)
{
	if (n->db != NULL)
		n->db->nnames[n->kind]--;
	mshm->names_total--;
	if (n->kind == NK_DB)
		mshm->ndbs--;
	else if (n->kind == NK_OVERFLOW)
		mshm->names_overflow--;
	else
		mshm->names_regular--;
	(void) hash_search(m_names, &n->key, HASH_REMOVE, NULL);
}

/*
 * Database `dbid`'s entry (key name ""; recorded names are never empty), created
 * on its first name; NULL when metrics_max_databases databases hold names.  EXCLUSIVE.
 */
static MetricsName *
db_find_or_create(Oid dbid, int64 minute)
{
	MetricsNameKey key;
	uint32		h;
	MetricsName *db;

	name_key(&key, dbid, "", 0);
	h = name_key_hash(&key, sizeof(key));
	db = hash_search_with_hash_value(m_names, &key, h, HASH_FIND, NULL);
	if (db != NULL)
		return db;
	if (mshm->ndbs >= mshm->max_dbs)
		return NULL;
	return name_create(&key, h, NK_DB, NULL, minute);
}

/* Database db's overflow entry `oname`, created from its fixed room.  EXCLUSIVE. */
static MetricsName *
overflow_find_or_create(MetricsName *db, const char *oname, int64 minute)
{
	MetricsNameKey okey;
	uint32		h;
	MetricsName *n;

	name_key(&okey, db->key.dbid, oname, strlen(oname));
	h = name_key_hash(&okey, sizeof(okey));
	n = hash_search_with_hash_value(m_names, &okey, h, HASH_FIND, NULL);
	if (n != NULL)
		return n;
	return name_create(&okey, h, NK_OVERFLOW, db, minute);
}

/*
 * Entry to record `key` under, creating it on the quota of `cls` in its database:
 * tracked names from their reserve (then as service names), service and app names
 * from their own quotas, beyond which they go to '_overflow' or '_overflow_app'.
 * An app flood therefore never takes room from service_role or the extension's
 * own names, nor one database from another.  NULL: no room (dropped).  EXCLUSIVE.
 */
MetricsName *
name_find_or_create(const MetricsNameKey *key, uint32 h, int64 minute, MetricsNameClass cls)
{
	MetricsName *n = hash_search_with_hash_value(m_names, key, h, HASH_FIND, NULL);
	MetricsName *db;
	const char *oname;

	if (n != NULL)
		return n;
	db = db_find_or_create(key->dbid, minute);
	if (db == NULL)
		return NULL;
	if (strcmp(key->name, OVERFLOW_RPC) == 0 || strcmp(key->name, OVERFLOW_APP_RPC) == 0)
		return overflow_find_or_create(db, key->name, minute);
	if (cls == FF_MX_TRACKED && db->nnames[NK_TRACKED] < TRACKED_RESERVE)
		return name_create(key, h, NK_TRACKED, db, minute);
	if (cls == FF_MX_APP)
	{
		if (db->nnames[NK_APP] < mshm->max_app_names)
			return name_create(key, h, NK_APP, db, minute);
		oname = OVERFLOW_APP_RPC;
	}
	else
	{
		if (db->nnames[NK_SERVICE] < mshm->max_names)
			return name_create(key, h, NK_SERVICE, db, minute);
		oname = OVERFLOW_RPC;
	}
	pg_atomic_fetch_add_u64(&mshm->overflow_calls, 1);
	return overflow_find_or_create(db, oname, minute);
}

/* Does database entry db still count names of any kind? (else it can go) */
static bool
db_has_names(const MetricsName *db)
{
	for (int k = 0; k < NK_COUNT; k++)
		if (db->nnames[k] != 0)
			return true;
	return false;
}

/*
 * Drop names idle for an hour with no slots, freeing room for new ones, then the
 * entries of databases left without names.  EXCLUSIVE.
 */
void
names_evict_idle(int64 now_minute)
{
	HASH_SEQ_STATUS seq;
	MetricsName *n;
	int			evicted = 0;
	bool		dbs_freed = false;

	hash_seq_init(&seq, m_names);
	while ((n = hash_seq_search(&seq)) != NULL)
	{
		if (n->kind == NK_DB || n->nslots != 0 || n->last_minute >= now_minute - NAME_IDLE_MINUTES)
			continue;
		/* removing the element the scan is on is allowed */
		name_remove(n);
		evicted++;
	}
	if (evicted > 0)
	{
		hash_seq_init(&seq, m_names);
		while ((n = hash_seq_search(&seq)) != NULL)
		{
			if (n->kind != NK_DB || db_has_names(n))
				continue;
			name_remove(n);
			dbs_freed = true;
		}
	}
	if (evicted > 0 || dbs_freed)
	{
		mshm->names_gen++;		/* every backend's memo may point at a removed entry */
		pg_atomic_fetch_add_u64(&mshm->evicted_names, evicted);
	}
}
