// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lazyshm-img: decode and verify lazyshm images, in the spirit of crit.
 *
 *   lazyshm-img show [-v] DIR   human-readable summary (-v: every digest)
 *   lazyshm-img json DIR        the whole image as JSON
 *   lazyshm-img verify DIR      check every page digest against CRIU's
 *                               page images, or a file object's pages file
 *                               (nothing is restored)
 *   lazyshm-img index [--digests-pending] DIR
 *                               write lazyshm-shmem.img from CRIU's images,
 *                               as the plugin does at dump (file objects of
 *                               an existing image are kept); with the
 *                               digests of CRIU's objects pending
 *
 * DIR may also be the path of a lazyshm-shmem.img file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lzimg.h"

#define MAX_REPORTED 20 /* mismatches printed per object */

static void usage(FILE *f)
{
	fprintf(f, "Usage: lazyshm-img COMMAND [options] DIR\n"
		   "\n"
		   "Decode lazyshm images (" LZIMG_FILE ") written by the lazyshm CRIU plugin.\n"
		   "DIR is a CRIU image directory, or the path of an " LZIMG_FILE ".\n"
		   "\n"
		   "Commands:\n"
		   "  show [-v] DIR   print the objects as text; -v also lists every page digest\n"
		   "  json DIR        print the whole image as JSON (digests as hex strings)\n"
		   "  verify DIR      check every page digest against CRIU's pagemap-shmem/pages\n"
		   "                  images (files: their lazyshm-file-N.pages), without\n"
		   "                  restoring anything; exit 1 on any mismatch\n"
		   "  index [--digests-pending] DIR\n"
		   "                  (re)write DIR/" LZIMG_FILE " from CRIU's images, as the\n"
		   "                  plugin does at the end of criu dump; the file objects of\n"
		   "                  an existing " LZIMG_FILE " are kept as they are;\n"
		   "                  --digests-pending: CRIU's objects without digests, as\n"
		   "                  the plugin writes them while the tasks are frozen\n"
		   "\n"
		   "Options:\n"
		   "  -v, --verbose   more detail (show: digests)\n"
		   "  -h, --help      this text\n");
}

/* Open the image directory named by path (a dir, or the image file itself). */
static int open_dir(const char *path)
{
	struct stat st;
	char *copy;
	int fd;

	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
		copy = strdup(path);
		if (!copy)
			return -1;
		fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		free(copy);
	} else {
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		fprintf(stderr, "lazyshm-img: can't open %s: %s\n", path, strerror(errno));
	return fd;
}

static struct lz_image *load(int dirfd, const char *path)
{
	char err[LZIMG_ERRLEN] = "";
	struct lz_image *img = NULL;
	struct stat st;
	int ret;

	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
		ret = lzimg_load_file(AT_FDCWD, path, &img, err, sizeof(err));
	else
		ret = lzimg_load(dirfd, &img, err, sizeof(err));
	if (ret == -ENOENT)
		fprintf(stderr, "lazyshm-img: %s: no " LZIMG_FILE " (not dumped with the lazyshm plugin?)\n", path);
	else if (ret)
		fprintf(stderr, "lazyshm-img: %s: %s\n", path, err);
	return ret ? NULL : img;
}

static void fmt_size(char *buf, size_t len, uint64_t v)
{
	if (v >= (1ULL << 30) && !(v % (1ULL << 30)))
		snprintf(buf, len, "%" PRIu64 "G", v >> 30);
	else if (v >= (1ULL << 20) && !(v % (1ULL << 20)))
		snprintf(buf, len, "%" PRIu64 "M", v >> 20);
	else if (v >= 1024 && !(v % 1024))
		snprintf(buf, len, "%" PRIu64 "K", v >> 10);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

/* "shmid 34", or "shmid 0x8000000000000003" for files (1 << 63 | remap id). */
static const char *shmid_str(const struct lz_obj *o, char *buf, size_t len)
{
	if (lzimg_kind_is_file(o->kind))
		snprintf(buf, len, "shmid %#" PRIx64, o->shmid);
	else
		snprintf(buf, len, "shmid %" PRIu64, o->shmid);
	return buf;
}

static void show_file(const struct lz_obj *o)
{
	printf("  file: criu remap id %u, %s, mode %#o, uid %u, gid %u, dev %#" PRIx64 ", ino %" PRIu64
	       ", ctime %" PRId64 ".%09" PRId64 "%s\n",
	       o->remap_id, o->unlinked ? "unlinked" : "named", o->mode, o->uid, o->gid, o->dev, o->ino,
	       o->ctime_ns / 1000000000, o->ctime_ns % 1000000000, o->private_mapped ? ", mapped MAP_PRIVATE" : "");
	printf("  pages: %s, boot id %s\n", o->pages_file ? o->pages_file : "(served by the dump's source)",
	       o->boot_id ? o->boot_id : "(none)");
}

static uint64_t presence_pages(const struct lz_presence *p)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < p->nr_runs; i++)
		n += p->runs[i].len;
	return n;
}

static void show_presence(const struct lz_obj *o, int verbose)
{
	size_t i, k;

	if (!o->nr_presence) {
		printf("  presence: not recorded\n");
		return;
	}
	for (i = 0; i < o->nr_presence; i++) {
		const struct lz_presence *p = &o->presence[i];

		printf("  presence: task %u, %" PRIu64 " pages in %zu runs", p->task, presence_pages(p), p->nr_runs);
		for (k = 0; verbose && k < p->nr_runs; k++)
			printf(" %" PRIu64 "-%" PRIu64, p->runs[k].start, p->runs[k].start + p->runs[k].len - 1);
		printf("\n");
	}
}

static void show_obj(const struct lz_obj *o, int verbose)
{
	char ps[32], id[48];
	size_t i;
	uint64_t k;

	fmt_size(ps, sizeof(ps), o->page_size);
	printf("%s: %s \"%s\"", shmid_str(o, id, sizeof(id)), lzimg_kind_name(o->kind), o->name);
	if (o->has_sysv_key)
		printf(" key %#x", o->sysv_key);
	printf("\n  page size %s, size %" PRIu64 " bytes (%" PRIu64 " pages), %" PRIu64 " with data in %zu runs\n", ps,
	       o->size, o->nr_pages, o->nr_data_pages, o->nr_runs);
	if (lzimg_kind_is_file(o->kind))
		show_file(o);
	printf("  data:");
	for (i = 0; i < o->nr_runs; i++)
		printf(" %" PRIu64 "-%" PRIu64, o->runs[i].start, o->runs[i].start + o->runs[i].len - 1);
	printf("%s\n  hint: %s, %zu runs\n", o->nr_runs ? "" : " none", lzimg_hint_name(o->hint_kind), o->nr_hint);
	if (o->digests_pending)
		printf("  digests: pending (the dump did not compute them: restores must not validate)\n");
	if (o->remote)
		printf("  content: remote (served by the dump's source, not in the images; no digests)\n");
	show_presence(o, verbose);
	if (!verbose || o->digests_pending || o->remote)
		return;
	for (i = 0; i < o->nr_runs; i++)
		for (k = 0; k < o->runs[i].len; k++)
			printf("  page %" PRIu64 " xxh3 %016" PRIx64 "\n", o->runs[i].start + k,
			       o->digests[o->runs[i].first + k]);
}

static const char *hex_id(const uint8_t *b, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < LZIMG_DUMP_ID_LEN && 2 * i + 2 < len; i++)
		snprintf(buf + 2 * i, 3, "%02x", b[i]);
	return buf;
}

static int cmd_show(struct lz_image *img, int verbose)
{
	char id[2 * LZIMG_DUMP_ID_LEN + 1];
	size_t i;

	printf(LZIMG_FILE ": format %u, digest xxh3-64, %zu objects, %" PRIu64 " page digests", LZIMG_VERSION,
	       lzimg_nr_objs(img), lzimg_nr_digests(img));
	if (lzimg_nr_pending(img))
		printf(", digests of %zu objects pending", lzimg_nr_pending(img));
	if (lzimg_nr_remote(img))
		printf(", %zu objects served by the dump's source", lzimg_nr_remote(img));
	printf("\n");
	if (lzimg_dump_id(img))
		printf("dump id %s\n", hex_id(lzimg_dump_id(img), id, sizeof(id)));
	for (i = 0; i < lzimg_nr_objs(img); i++)
		show_obj(lzimg_obj(img, i), verbose);
	return 0;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_ranges(const char *key, const struct lz_range *r, const struct lz_run *runs, size_t n)
{
	size_t i;

	printf(",\n      \"%s\": [", key);
	for (i = 0; i < n; i++)
		printf("%s[%" PRIu64 ", %" PRIu64 "]", i ? ", " : "", r ? r[i].start : runs[i].start,
		       r ? r[i].len : runs[i].len);
	printf("]");
}

static void json_file(const struct lz_obj *o)
{
	printf(",\n      \"criu_remap_id\": %u,\n      \"unlinked\": %s,\n      \"mode\": %u,\n      \"uid\": %u,"
	       "\n      \"gid\": %u,\n      \"dev\": %" PRIu64 ",\n      \"ino\": %" PRIu64 ",\n      \"ctime_ns\": %" PRId64
	       ",\n      \"boot_id\": ",
	       o->remap_id, o->unlinked ? "true" : "false", o->mode, o->uid, o->gid, o->dev, o->ino, o->ctime_ns);
	if (o->boot_id)
		json_str(o->boot_id);
	else
		printf("null");
	printf(",\n      \"pages_file\": ");
	if (o->pages_file)
		json_str(o->pages_file);
	else
		printf("null");
	printf(",\n      \"private_mapped\": %s", o->private_mapped ? "true" : "false");
}

static void json_obj(const struct lz_obj *o, int last)
{
	size_t i;
	uint64_t k;

	/* shmid as a number, and exactly as a string: JSON readers round above 2^53 (file objects) */
	printf("    {\n      \"shmid\": %" PRIu64 ",\n      \"shmid_hex\": \"%#" PRIx64 "\",\n      \"kind\": \"%s\",\n"
	       "      \"name\": ",
	       o->shmid, o->shmid, lzimg_kind_name(o->kind));
	json_str(o->name);
	if (o->has_sysv_key)
		printf(",\n      \"sysv_key\": %u", o->sysv_key);
	printf(",\n      \"page_size\": %u,\n      \"size\": %" PRIu64 ",\n      \"nr_pages\": %" PRIu64
	       ",\n      \"nr_data_pages\": %" PRIu64 ",\n      \"hugetlb_flag\": %u,\n      \"digest_algo\": \"xxh3-64\"",
	       o->page_size, o->size, o->nr_pages, o->nr_data_pages, o->hugetlb_flag);
	if (lzimg_kind_is_file(o->kind))
		json_file(o);
	json_ranges("data_runs", NULL, o->runs, o->nr_runs);
	printf(",\n      \"digests_pending\": %s,\n      \"remote\": %s,\n      \"digests\": [",
	       o->digests_pending ? "true" : "false", o->remote ? "true" : "false");
	for (i = 0; o->digests && i < o->nr_runs; i++)
		for (k = 0; k < o->runs[i].len; k++)
			printf("%s\"%016" PRIx64 "\"", (i || k) ? ", " : "", o->digests[o->runs[i].first + k]);
	printf("],\n      \"hint_kind\": \"%s\"", lzimg_hint_name(o->hint_kind));
	json_ranges("hint_runs", o->hint, NULL, o->nr_hint);
	printf(",\n      \"presence\": [");
	for (i = 0; i < o->nr_presence; i++) {
		printf("%s{\"task\": %u, \"runs\": [", i ? ", " : "", o->presence[i].task);
		for (k = 0; k < o->presence[i].nr_runs; k++)
			printf("%s[%" PRIu64 ", %" PRIu64 "]", k ? ", " : "", o->presence[i].runs[k].start,
			       o->presence[i].runs[k].len);
		printf("]}");
	}
	printf("]\n    }%s\n", last ? "" : ",");
}

static int cmd_json(struct lz_image *img)
{
	char id[2 * LZIMG_DUMP_ID_LEN + 1];
	size_t i, n = lzimg_nr_objs(img);

	printf("{\n  \"magic\": \"LAZYSHM_SHMEM\",\n  \"version\": %u,\n  \"digest_algo\": \"xxh3-64\",\n"
	       "  \"nr_digests\": %" PRIu64 ",\n  \"nr_pending\": %zu,\n  \"nr_remote\": %zu,\n  \"dump_id\": ",
	       LZIMG_VERSION, lzimg_nr_digests(img), lzimg_nr_pending(img), lzimg_nr_remote(img));
	if (lzimg_dump_id(img))
		printf("\"%s\"", hex_id(lzimg_dump_id(img), id, sizeof(id)));
	else
		printf("null");
	printf(",\n  \"objects\": [\n");
	for (i = 0; i < n; i++)
		json_obj(lzimg_obj(img, i), i + 1 == n);
	printf("  ]\n}\n");
	return 0;
}

/* Pages with data in CRIU's images must all have a digest. */
static int verify_coverage(const struct lz_obj *o, struct lz_pagesrc *src, uint64_t *bad)
{
	uint64_t off = 0, s, e, idx, dummy;
	char id[48];

	while (lz_pagesrc_next_data(src, off, &s, &e)) {
		for (idx = s / o->page_size; idx <= (e - 1) / o->page_size; idx++) {
			if (lzimg_page_digest(o, idx, &dummy))
				continue;
			if ((*bad)++ < MAX_REPORTED)
				printf("MISMATCH %s (%s \"%s\") page %" PRIu64 " (offset %#" PRIx64
				       "): has data in the page images but is a hole in " LZIMG_FILE "\n",
				       shmid_str(o, id, sizeof(id)), lzimg_kind_name(o->kind), o->name, idx,
				       idx * o->page_size);
		}
		off = e;
	}
	return 0;
}

/*
 * An object the dump's source serves: no content to verify here, but CRIU's
 * pagemap must be all PE_LAZY and have data exactly where the index says.
 */
static int verify_remote(int dirfd, const struct lz_obj *o, uint64_t *bad)
{
	char err[LZIMG_ERRLEN] = "", id[48];
	struct lz_pagesrc *src = NULL;
	uint64_t off = 0, s, e, idx, pages = 0;
	int ret;

	shmid_str(o, id, sizeof(id));
	if (lzimg_kind_is_file(o->kind) || o->nr_pages == 0)
		return 0;
	ret = lz_pagesrc_open_remote(dirfd, o->shmid, &src, err, sizeof(err));
	if (ret) {
		printf("ERROR %s (%s \"%s\"): %s\n", id, lzimg_kind_name(o->kind), o->name, err);
		return ret;
	}
	while (lz_pagesrc_next_data(src, off, &s, &e)) {
		for (idx = s / o->page_size; idx <= (e - 1) / o->page_size; idx++, pages++)
			if (!lzimg_page_data(o, idx) && (*bad)++ < MAX_REPORTED)
				printf("MISMATCH %s (%s \"%s\") page %" PRIu64 ": has data in CRIU's pagemap but is a "
				       "hole in " LZIMG_FILE "\n",
				       id, lzimg_kind_name(o->kind), o->name, idx);
		off = e;
	}
	lz_pagesrc_close(src);
	if (pages < o->nr_data_pages && (*bad)++ < MAX_REPORTED)
		printf("MISMATCH %s (%s \"%s\"): %" PRIu64 " pages with data in CRIU's pagemap, " LZIMG_FILE
		       " says %" PRIu64 "\n",
		       id, lzimg_kind_name(o->kind), o->name, pages, o->nr_data_pages);
	return 0;
}

static int verify_obj(int dirfd, const struct lz_obj *o, uint64_t *pages, uint64_t *bad)
{
	char err[LZIMG_ERRLEN] = "", id[48];
	struct lz_pagesrc *src = NULL;
	uint64_t k, idx, actual;
	size_t i;
	int ret;

	shmid_str(o, id, sizeof(id));
	if (o->digests_pending) {
		printf("ERROR %s (%s \"%s\"): its digests are pending (the dump did not compute them): nothing to "
		       "verify against\n",
		       id, lzimg_kind_name(o->kind), o->name);
		return -EINVAL;
	}
	if (o->nr_pages == 0 && !lzimg_kind_is_file(o->kind))
		return 0;
	ret = lz_pagesrc_open_obj(dirfd, o, &src, err, sizeof(err));
	if (ret) {
		printf("ERROR %s (%s \"%s\"): %s\n", id, lzimg_kind_name(o->kind), o->name, err);
		return ret;
	}
	for (i = 0; i < o->nr_runs; i++) {
		for (k = 0; k < o->runs[i].len; k++) {
			uint64_t expected = o->digests[o->runs[i].first + k];

			idx = o->runs[i].start + k;
			ret = lz_pagesrc_digest(src, idx, o->page_size, &actual);
			if (ret) {
				printf("ERROR %s page %" PRIu64 ": %s\n", id, idx, lz_pagesrc_error(src));
				goto out;
			}
			(*pages)++;
			if (actual != expected && (*bad)++ < MAX_REPORTED)
				printf("MISMATCH %s (%s \"%s\") page %" PRIu64 " (offset %#" PRIx64
				       ", %u bytes): expected digest %016" PRIx64 ", actual %016" PRIx64 "\n",
				       id, lzimg_kind_name(o->kind), o->name, idx, idx * o->page_size, o->page_size,
				       expected, actual);
		}
	}
	ret = verify_coverage(o, src, bad);
out:
	lz_pagesrc_close(src);
	return ret;
}

static int cmd_verify(int dirfd, struct lz_image *img)
{
	uint64_t pages = 0, bad = 0, bytes = 0;
	size_t i;
	int errors = 0;

	for (i = 0; i < lzimg_nr_objs(img); i++) {
		const struct lz_obj *o = lzimg_obj(img, i);
		uint64_t before = pages;

		if (o->remote ? verify_remote(dirfd, o, &bad) : verify_obj(dirfd, o, &pages, &bad))
			errors++;
		bytes += (pages - before) * o->page_size;
	}
	if (bad || errors) {
		printf("verify FAILED: %" PRIu64 " mismatching pages, %d objects unreadable, of %zu objects\n", bad,
		       errors, lzimg_nr_objs(img));
		return 1;
	}
	printf("verify OK: %zu objects, %" PRIu64 " pages with data (%" PRIu64 " bytes) match their digests",
	       lzimg_nr_objs(img), pages, bytes);
	if (lzimg_nr_remote(img))
		printf("; %zu objects are served by the dump's source: only their geometry is checked",
		       lzimg_nr_remote(img));
	printf("\n");
	return 0;
}

/* The file objects of the image already in dirfd: CRIU's images don't have
 * them (their content is in their own pages files), so index keeps them. */
/* The shmids of CRIU's objects that the image already in dirfd marks remote */
static uint64_t *old_remote(const struct lz_image *old, size_t *nr)
{
	size_t i, n = old ? lzimg_nr_objs(old) : 0;
	uint64_t *v = calloc(n + 1, sizeof(*v));

	*nr = 0;
	for (i = 0; v && i < n; i++)
		if (lzimg_obj(old, i)->remote && !lzimg_kind_is_file(lzimg_obj(old, i)->kind))
			v[(*nr)++] = lzimg_obj(old, i)->shmid;
	return v;
}

static int old_file_specs(int dirfd, const char *path, struct lz_image **old, struct lz_obj_spec **specs, size_t *nr)
{
	char err[LZIMG_ERRLEN] = "";
	size_t i;
	int ret;

	ret = lzimg_load(dirfd, old, err, sizeof(err));
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		fprintf(stderr, "lazyshm-img: %s: existing %s: %s (remove it to index without its file objects)\n", path,
			LZIMG_FILE, err);
		return ret;
	}
	*specs = calloc(lzimg_nr_objs(*old) + 1, sizeof(**specs));
	if (!*specs)
		return -ENOMEM;
	for (i = 0; i < lzimg_nr_objs(*old); i++) {
		const struct lz_obj *o = lzimg_obj(*old, i);

		if (!lzimg_kind_is_file(o->kind))
			continue;
		if (lzimg_obj_to_spec(o, &(*specs)[*nr]))
			return -ENOMEM;
		(*nr)++;
	}
	return 0;
}

static int write_index(int dirfd, const char *path, int pending)
{
	struct lz_index_input in = { .digests_pending = pending };
	char err[LZIMG_ERRLEN] = "";
	struct lz_obj_spec *specs = NULL;
	struct lz_image *old = NULL;
	size_t i, nr = 0;
	int ret;

	uint64_t *remote = NULL;

	ret = old_file_specs(dirfd, path, &old, &specs, &nr);
	if (!ret && !(remote = old_remote(old, &in.nr_remote)))
		ret = -ENOMEM;
	if (ret == -ENOMEM)
		fprintf(stderr, "lazyshm-img: %s: no memory\n", path);
	if (!ret) {
		in.remote = remote;
		in.dump_id = old ? lzimg_dump_id(old) : NULL;
		in.extra = specs;
		in.nr_extra = nr;
		ret = lzimg_write_from_criu_in(dirfd, &in, err, sizeof(err));
		if (ret)
			fprintf(stderr, "lazyshm-img: %s: %s\n", path, err);
	}
	for (i = 0; i < nr; i++)
		lzimg_obj_spec_release(&specs[i]);
	free(specs);
	free(remote);
	lzimg_free(old);
	return ret;
}

static int cmd_index(int dirfd, const char *path, int pending)
{
	struct lz_image *img;

	if (write_index(dirfd, path, pending))
		return 1;
	img = load(dirfd, path);
	if (!img)
		return 1;
	printf("wrote %s/" LZIMG_FILE ": %zu objects, %" PRIu64 " page digests\n", path, lzimg_nr_objs(img),
	       lzimg_nr_digests(img));
	lzimg_free(img);
	return 0;
}

struct args {
	const char *cmd;
	const char *dir;
	int verbose;
	int pending;
};

/* One pass of getopt; -1: bad usage, 1: --help, 0: go on */
static int parse_opts(int argc, char **argv, const char *optstr, struct args *a)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "digests-pending", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, optstr, opts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (c == 'v')
			a->verbose = 1;
		else if (c == 'p' && a->cmd && !strcmp(a->cmd, "index"))
			a->pending = 1;
		else
			return -1;
	}
	return 0;
}

/* Options before and after the command; -1: bad usage, 1: --help, 0: go on */
static int parse_args(int argc, char **argv, struct args *a)
{
	int ret = parse_opts(argc, argv, "+hv", a);

	if (ret)
		return ret;
	if (optind >= argc)
		return -1;
	a->cmd = argv[optind++];
	ret = parse_opts(argc, argv, "hv", a);
	if (ret)
		return ret;
	if (optind + 1 != argc || (strcmp(a->cmd, "show") && strcmp(a->cmd, "json") && strcmp(a->cmd, "verify") &&
				   strcmp(a->cmd, "index")))
		return -1;
	a->dir = argv[optind];
	return 0;
}

static int run_cmd(int dirfd, const struct args *a)
{
	struct lz_image *img;
	int ret;

	if (!strcmp(a->cmd, "index"))
		return cmd_index(dirfd, a->dir, a->pending);
	img = load(dirfd, a->dir);
	if (!img)
		return 1;
	if (!strcmp(a->cmd, "show"))
		ret = cmd_show(img, a->verbose);
	else if (!strcmp(a->cmd, "json"))
		ret = cmd_json(img);
	else
		ret = cmd_verify(dirfd, img);
	lzimg_free(img);
	return ret;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	int dirfd, ret;

	ret = parse_args(argc, argv, &a);
	if (ret) {
		usage(ret > 0 ? stdout : stderr);
		return ret > 0 ? 0 : 2;
	}
	dirfd = open_dir(a.dir);
	if (dirfd < 0)
		return 1;
	ret = run_cmd(dirfd, &a);
	close(dirfd);
	return ret;
}
