/*
 * list.h - the list type: a quicklist (a doubly linked list of listpack
 * nodes) and the keyspace-level operations that commands and the blocking
 * layer (BLPOP, BLMOVE, BLMPOP) call.
 *
 * Encodings, as Redis 7.2: a small list is one bare listpack (OBJECT
 * ENCODING "listpack", AP_ENC_LISTPACK, the entry's object is the
 * listpack itself). When an operation would make it exceed one node's
 * limit it becomes a quicklist (AP_ENC_QUICKLIST, the object is a struct
 * ap_list). A quicklist shrunk to one node holding at most half a node's
 * limit becomes a listpack again (after pops, LREM, LTRIM, LSET).
 *
 * Node limit (list-max-listpack-size, `fill`): fill > 0 is at most fill
 * elements per node (and at most 8 KB), fill = 0 is one element, fill < 0
 * is a size: -1..-5 = 4, 8, 16, 32, 64 KB (below -5 counts as -5). An
 * element bigger than the limit gets a node of its own ("plain" node).
 *
 * Compression (list-compress-depth, `depth`): with depth > 0 the depth
 * nodes at each end stay raw and the nodes between are LZ4-compressed, as
 * Redis does, except nodes under AP_LIST_COMPRESS_MIN_BYTES, nodes that
 * would not shrink by AP_LIST_COMPRESS_MIN_SAVING bytes, and nodes over
 * AP_LIST_COMPRESS_MAX_BYTES (core/limits.h). Compression is invisible to
 * callers: reading an element of a compressed node decompresses that node
 * on loan, and the node gets its compressed form back when the iterator
 * moves to another node (or at the list's next iteration, open, close or
 * change). The depth is applied lazily: a node is compressed or
 * decompressed when an operation changes it or moves it past the raw
 * ends, never by walking the whole list, so a depth changed at run time
 * (CONFIG SET) reaches a list as it is touched. depth 0 compresses
 * nothing new; nodes still compressed from before are decompressed when
 * changed.
 *
 * Options (`opts` below): the node limit and the depth travel as one int,
 * ap_list_opts(fill, depth) or ap_list_opts_of(cfg). A bare
 * list-max-listpack-size value below 65531 is valid opts meaning depth 0.
 *
 * Working with a value of either encoding: open it into a struct
 * ap_list_ref (which wraps a bare listpack as a one-node list with no node
 * limit), call ap_list_ref_grow() before adding elements (it converts to a
 * quicklist when Redis would), use the ap_list_* operations on ref.l, then
 * ap_list_ref_close() gives the object and encoding to store back (or
 * NULL when the list became empty: the caller deletes the key). A ref
 * only read from needs no close.
 *
 * Ownership: a struct ap_list owns its nodes and their listpacks. Element
 * strings passed in are copied; strings read out point into a node (or
 * into the caller's buffer for integers) and stay valid until the next
 * mutation of the list, except strings of a node decompressed on loan
 * (ap_list_iter_transient): those are valid until the iterator moves to
 * another node, another iterator starts on the list, or the list is
 * opened, closed or changed. Copy them to keep them longer. One iterator
 * at a time reads a given list.
 *
 * Threading: none; a list belongs to the shard that owns its key.
 */
#ifndef AP_CORE_LIST_H
#define AP_CORE_LIST_H

#include "core/cmd.h"
#include "core/keyspace.h"
#include "core/listpack.h"
#include "core/reply.h"

enum ap_list_end {
	AP_LIST_HEAD = 0,
	AP_LIST_TAIL = 1,
};

/* Fields are private to list.c; the types are complete only so that a
 * struct ap_list_ref and an iterator can live on the caller's stack. */
struct ap_list_node {
	struct ap_list_node *prev;
	struct ap_list_node *next;
	/* The listpack; when compressed, a blob instead: [listpack bytes:
	 * u32 LE][LZ4 bytes: u32 LE][one LZ4 block of the listpack]. */
	unsigned char *lp;
	uint32_t count;		/* elements in the listpack */
	uint8_t plain;		/* one element larger than a node's limit */
	uint8_t embedded;	/* inside a struct ap_list_ref: never freed */
	uint8_t compressed;	/* lp is a blob */
	uint8_t incompressible; /* compression failed; unchanged since */
};

struct ap_list {
	struct ap_list_node *head;
	struct ap_list_node *tail;
	size_t count; /* elements */
	size_t nodes;
	int fill;      /* list-max-listpack-size in force */
	int depth;     /* list-compress-depth in force */
	bool single;   /* a wrapped bare listpack: one node, no limit */
	bool reshaped; /* nodes came or went: the raw ends need a look */
	size_t zcount; /* nodes compressed (a loaned one included) */
	/* The node decompressed for reading, and its blob meanwhile. */
	struct ap_list_node *loan;
	unsigned char *loan_blob;
	/* The node an iterator deleted from; settled when left. */
	struct ap_list_node *pending;
};

/* An element position while walking a list in one direction. */
struct ap_list_iter {
	struct ap_list *l;
	struct ap_list_node *node;
	unsigned char *p; /* current element in node->lp; NULL when done */
	size_t idx;	  /* index of the current element from the head */
	bool forward;	  /* head to tail */
};

/* --- options --------------------------------------------------------- */

/* The opts for node limit fill (clamped to [-5, AP_LIST_FILL_MAX], an
 * equivalent limit) and compression depth (clamped to [0,
 * AP_LIST_COMPRESS_DEPTH_MAX]). */
int ap_list_opts(int fill, int depth);

/* The opts of a configuration: list-max-listpack-size and
 * list-compress-depth. */
int ap_list_opts_of(const struct ap_config *cfg);

/* --- the quicklist --------------------------------------------------- */

/* Creates an empty quicklist with the given options (see ap_list_opts);
 * owned by the caller, released with ap_list_destroy. */
struct ap_list *ap_list_create(int opts);

/* Frees the list, its nodes and their listpacks. */
void ap_list_destroy(struct ap_list *l);

/* Deep copy, owned by the caller. */
struct ap_list *ap_list_dup(const struct ap_list *l);

/* Elements in the list. O(1). */
size_t ap_list_count(const struct ap_list *l);

/* Bytes of memory used (struct, nodes, listpacks as stored, compressed
 * or not); estimated from a sample of nodes for long lists. */
size_t ap_list_mem(const struct ap_list *l);

/* Frees nodes from the head until about budget elements were released;
 * returns true when the list is gone entirely (l is then invalid). For
 * lazy free of big lists, a budget per loop tick. */
bool ap_list_free_some(struct ap_list *l, size_t budget);

/* Adds s (len bytes) at the head or the tail. */
void ap_list_push(struct ap_list *l, enum ap_list_end end, const char *s,
		  size_t len);

/* Called with each popped element (integers formatted as decimal); the
 * bytes are valid only during the call. */
typedef void ap_list_elem_fn(void *arg, const char *s, size_t len);

/* Removes the element at the head or tail, calling fn (may be NULL) with
 * it first. Returns false (and calls nothing) when the list is empty. */
bool ap_list_pop(struct ap_list *l, enum ap_list_end end, ap_list_elem_fn *fn,
		 void *arg);

/* Removes count elements starting at index start (negative counts from
 * the tail; out of range removes nothing; count past the end removes to
 * the end). Whole nodes are freed without being walked. */
void ap_list_delete_range(struct ap_list *l, long long start, size_t count);

/* Positions it at index (negative from the tail), walking towards the
 * tail when forward, else towards the head. Out of range: the iterator is
 * done at once (ap_list_iter_valid false). */
void ap_list_iter_init(struct ap_list_iter *it, struct ap_list *l,
		       long long index, bool forward);

/* True while the iterator is on an element. */
bool ap_list_iter_valid(const struct ap_list_iter *it);

/* True when strings read at the current element live in a node that is
 * decompressed only on loan (see Ownership above): a caller keeping them
 * past the iterator's next step must copy them. */
bool ap_list_iter_transient(const struct ap_list_iter *it);

/* The current element as a string (see ap_lp_get_str). */
const char *ap_list_iter_get(const struct ap_list_iter *it, size_t *len,
			     char buf[AP_LP_INTBUF_SIZE]);

/* True when the current element equals s as a string. */
bool ap_list_iter_eq(const struct ap_list_iter *it, const char *s, size_t len);

/* Moves to the next element in the iterator's direction. */
void ap_list_iter_next(struct ap_list_iter *it);

/* Ends a read through it: a node decompressed on loan for it gets its
 * compressed form back (strings read from it are void). Readers that
 * stop in the middle of a list (LINDEX, LRANGE, LPOS) call it, so that no
 * node stays decompressed after the command; the list's next iteration,
 * open or change would do it too. it is void afterwards. */
void ap_list_iter_done(struct ap_list_iter *it);

/* Deletes the current element and moves to the next one in the
 * iterator's direction (idx stays the index of the current element). */
void ap_list_iter_delete(struct ap_list_iter *it);

/* Replaces the current element with s. The iterator is void afterwards
 * (init it again to keep walking). */
void ap_list_iter_replace(struct ap_list_iter *it, const char *s, size_t len);

/* Inserts s before or after the current element. The iterator is void
 * afterwards. */
void ap_list_iter_insert(struct ap_list_iter *it, enum ap_lp_where where,
			 const char *s, size_t len);

/* --- values of either encoding --------------------------------------- */

/* An open list value. Holds pointers into itself: never copy or move it
 * between ap_list_ref_open and ap_list_ref_close. */
struct ap_list_ref {
	struct ap_list *l; /* operate on this */
	struct ap_list wrap;
	struct ap_list_node node;
};

/* Opens the value obj of encoding enc (AP_ENC_LISTPACK or
 * AP_ENC_QUICKLIST) for operations with options opts (ap_list_opts: the
 * node limit and compression depth then in force). obj NULL with
 * AP_ENC_LISTPACK opens a new empty list. */
void ap_list_ref_open(struct ap_list_ref *ref, void *obj, enum ap_enc enc,
		      int opts);

/* Announces that add_count elements totalling add_bytes string bytes are
 * about to be added: a bare listpack that would then exceed one node's
 * limit becomes a quicklist (Redis's rule, on raw string lengths). */
void ap_list_ref_grow(struct ap_list_ref *ref, size_t add_bytes,
		      size_t add_count);

/* Closes the value: returns the object to store and its encoding in
 * *enc, or NULL when the list is empty (everything is freed; the caller
 * deletes the key). shrinking: elements were removed or replaced, so a
 * small one-node quicklist converts back to a listpack. */
void *ap_list_ref_close(struct ap_list_ref *ref, bool shrinking,
			enum ap_enc *enc);

/* --- keyspace operations (commands, blocking layer) ------------------ */

/* `fill` below is the list's options (ap_list_opts_of(cfg)). */

/* Closes ref (opened on e's value) and stores the result back into e, or
 * deletes key (whose live entry e is) when the list is empty. shrinking
 * as for ap_list_ref_close. */
void ap_list_key_store(struct ap_db *db, struct ap_entry *e,
		       struct ap_list_ref *ref, bool shrinking, const char *key,
		       size_t klen);

/* Elements of the list held by entry e (which must be a list). */
size_t ap_list_entry_len(const struct ap_entry *e);

/* Pushes the n elements of elems one by one at `end` of the list at key
 * (LPUSH order: each element goes to the head in turn), creating the key
 * when e is NULL. e must be NULL or key's live list entry. Returns the
 * new length. Callers count n changes. */
size_t ap_list_key_push(struct ap_db *db, struct ap_entry *e, int fill,
			const char *key, size_t klen, enum ap_list_end end,
			const struct ap_arg *elems, size_t n);

/* Pops up to count elements from `end` of key's list (entry e, a live
 * list), writing each as a bulk string to r (no array header: write it
 * first, min(count, length) elements). Deletes the key when it empties.
 * Returns the number popped; callers count that many changes. */
size_t ap_list_key_pop_reply(struct ap_db *db, struct ap_entry *e, int fill,
			     const char *key, size_t klen, enum ap_list_end end,
			     size_t count, struct ap_reply *r);

/* Pops one element from `end` of key's list calling fn with it (see
 * ap_list_elem_fn). Deletes the key when it empties. Returns false when
 * e is NULL (nothing popped). */
bool ap_list_key_pop(struct ap_db *db, struct ap_entry *e, int fill,
		     const char *key, size_t klen, enum ap_list_end end,
		     ap_list_elem_fn *fn, void *arg);

/* Outcomes of ap_list_key_move. */
enum ap_list_move_result {
	AP_LIST_MOVED = 0,	    /* moved; the element was replied as bulk */
	AP_LIST_MOVE_EMPTY = 1,	    /* src absent; nothing written or changed */
	AP_LIST_MOVE_WRONGTYPE = 2, /* src or dst not a list; nothing written
				       or changed */
};

/* LMOVE: pops from `from` of src and pushes to `to` of dst (the same key
 * rotates), replying the element to r on success. Deletes src when it
 * empties, creates dst when absent. Counts one change in *dirty. */
enum ap_list_move_result
ap_list_key_move(struct ap_db *db, int fill, const char *src, size_t slen,
		 const char *dst, size_t dlen, enum ap_list_end from,
		 enum ap_list_end to, struct ap_reply *r, uint64_t *dirty);

#endif
