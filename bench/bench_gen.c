/*
 * bench_gen.c - synthetic resident data for one real village code.
 *
 * Everything personal here is made up: names are drawn from short lists of
 * common characters, ID numbers are 500243 + a birth date + a sequence +
 * the GB 11643 (ISO 7064 MOD 11-2) check character, mobiles come from the
 * 1380000xxxx range the demo uses, landlines from 023-7844xxxx. Only the
 * division codes and names are real (data/divisions/pengshui_divisions.csv,
 * source and licence in data/README.md).
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/types.h"

/* splitmix64: small, fast, and the same sequence everywhere. */
uint64_t vlb_next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int rnd(uint64_t *s, int lo, int hi)
{
	return lo + (int)(vlb_next_u64(s) % (uint64_t)(hi - lo + 1));
}

/* 1 with probability pct/100. */
static int chance(uint64_t *s, int pct)
{
	return rnd(s, 0, 99) < pct;
}

/* Common surnames, with 冉 向 田 任 as in Pengshui's Miao and Tujia villages. */
static const char *const surnames[] = {
	"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱",
	"高", "林", "何", "郭", "马", "罗", "冉", "向", "田", "任", "蒋", "谢", "庞", "侯",
};
static const char *const given[] = {
	"秀", "英", "建", "国", "明", "华", "芳", "军", "丽", "强", "平", "兰", "文", "勇",
	"云", "霞", "志", "红", "德", "春", "玉", "福", "淑", "桂", "永", "海", "燕", "琴",
};
static const char *const notes[] = {
	"高血压，需定期送药，子女在外务工",
	"行动不便，需上门服务；每周二由网格员代购生活物资",
	"子女在外务工，与孙辈同住，需关注老人与儿童的日常照料",
	"糖尿病，每日注射胰岛素，药品需冷藏保存",
	"本人电话常无人接听，可联系邻居转告",
	"租住于此，原籍外省，返乡时间未定",
	"血液透析患者，每周一、四往返县医院",
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Split a CSV line "code,name,level,parent" in place; 0 if it has four fields. */
static int csv_fields(char *line, char *f[4])
{
	int i;

	f[0] = line;
	for (i = 1; i < 4; i++) {
		char *c = strchr(f[i - 1], ',');
		if (!c)
			return -1;
		*c = '\0';
		f[i] = c + 1;
	}
	f[3][strcspn(f[3], "\r\n")] = '\0';
	return 0;
}

int vlb_division_find(char *name, size_t cap, char parent[13], const char *csv_path,
		const char *code, const char *level)
{
	FILE *f = fopen(csv_path, "r");
	char line[512], *fld[4];
	int rc = VL_ENOTFOUND;

	if (!f)
		return vl_error_set(VL_ENOTFOUND, "cannot open divisions table '%s'", csv_path);
	while (fgets(line, sizeof(line), f)) {
		if (csv_fields(line, fld) < 0 || strcmp(fld[0], code) != 0)
			continue;
		if ((level && strcmp(fld[2], level) != 0) || strlen(fld[1]) >= cap)
			break;
		memcpy(name, fld[1], strlen(fld[1]) + 1);
		if (parent)
			snprintf(parent, 13, "%.12s", fld[3]);
		rc = 0;
		break;
	}
	fclose(f);
	if (rc < 0)
		return vl_error_set(VL_ENOTFOUND, "'%s' is not a %s code of '%s'", code,
				level ? level : "division", csv_path);
	return 0;
}

int vlb_village_load(vlb_village *out, const char *csv_path, const char *code)
{
	char parent[13];
	size_t l;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = vlb_division_find(out->name, sizeof(out->name), parent, csv_path, code, "village")) < 0 ||
			(rc = vlb_division_find(out->town, sizeof(out->town), NULL, csv_path, parent, NULL)) < 0)
		return rc;
	snprintf(out->code, sizeof(out->code), "%s", code);
	/* "鼓楼社区居委会" -> "鼓楼社区", "亭子村委会" -> "亭子村" (3 bytes a character). */
	snprintf(out->short_name, sizeof(out->short_name), "%s", out->name);
	l = strlen(out->short_name);
	if (l > 9 && !strcmp(out->short_name + l - 9, "居委会"))
		out->short_name[l - 9] = '\0';
	else if (l > 6 && !strcmp(out->short_name + l - 6, "委会"))
		out->short_name[l - 6] = '\0';
	return 0;
}

typedef struct {
	int age;
	int male;
	const char *relation;
} member;

/* A made-up name: surname + one or two given characters. */
static void make_name(char *out, size_t cap, uint64_t *s, const char *surname)
{
	if (chance(s, 70))
		snprintf(out, cap, "%s%s%s", surname, given[rnd(s, 0, NELEM(given) - 1)],
				given[rnd(s, 0, NELEM(given) - 1)]);
	else
		snprintf(out, cap, "%s%s", surname, given[rnd(s, 0, NELEM(given) - 1)]);
}

/* ---- a set of ID numbers (open addressing; ids are never removed) ---- */

struct vlb_idset {
	char (*slot)[19];
	size_t cap, n;
};

vlb_idset *vlb_idset_new(void)
{
	return calloc(1, sizeof(vlb_idset));
}

void vlb_idset_free(vlb_idset *s)
{
	if (s) {
		free(s->slot);
		free(s);
	}
}

static size_t id_hash(const char *id)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ULL;
	return (size_t)h;
}

/* 1 if id was added, 0 if it was there, <0 out of memory. */
static int idset_add(vlb_idset *s, const char *id)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		vlb_idset grown = { NULL, s->cap ? s->cap * 2 : 4096, 0 };
		if (!(grown.slot = calloc(grown.cap, sizeof(*grown.slot))))
			return vl_error_set(VL_ENOMEM, "out of memory");
		for (i = 0; i < s->cap; i++)
			if (s->slot[i][0])
				(void)idset_add(&grown, s->slot[i]);
		free(s->slot);
		*s = grown;
	}
	for (i = id_hash(id) & (s->cap - 1); s->slot[i][0]; i = (i + 1) & (s->cap - 1))
		if (!strcmp(s->slot[i], id))
			return 0;
	memcpy(s->slot[i], id, 19);
	s->n++;
	return 1;
}

int vlb_gen_residents(vl_buf *out, const vlb_village *v, size_t n, uint64_t seed)
{
	vlb_idset *ids = vlb_idset_new();
	int rc;

	if (!ids)
		return vl_error_set(VL_ENOMEM, "out of memory");
	rc = vlb_gen_residents_ex(out, v, n, seed, ids);
	vlb_idset_free(ids);
	return rc;
}

int vlb_gen_residents_ex(vl_buf *out, const vlb_village *v, size_t n, uint64_t seed, vlb_idset *ids)
{
	char workers[4][16];
	uint64_t s = seed;
	size_t done = 0, hh = 0, i;
	int rc = 0;

	for (i = 0; i < NELEM(workers); i++)
		make_name(workers[i], sizeof(workers[i]), &s, surnames[rnd(&s, 0, NELEM(surnames) - 1)]);
	if ((rc = vl_buf_puts(out, "records:\n")) < 0)
		goto out;
	while (done < n) {
		static const int size_weights[] = { 18, 26, 24, 18, 14 }; /* 1..5 people */
		member m[5];
		const char *surname = surnames[rnd(&s, 0, NELEM(surnames) - 1)];
		int size = 1, r = rnd(&s, 0, 99), k, group = rnd(&s, 1, 12), house = rnd(&s, 1, 60);
		int grid = (group + 2) / 3, migrant = chance(&s, 12);
		for (k = 0; k < 5 && r >= size_weights[k]; k++)
			r -= size_weights[k];
		size = k + 1;
		hh++;
		/* Head; one-person households are mostly old people. */
		m[0].age = size == 1 && chance(&s, 70) ? rnd(&s, 60, 92) : rnd(&s, 24, 80);
		m[0].male = chance(&s, 60);
		m[0].relation = "head";
		for (k = 1; k < size; k++) {
			if (k == 1) {
				m[k].age = m[0].age + rnd(&s, -5, 5);
				m[k].male = !m[0].male;
				m[k].relation = "spouse";
			} else if (k == 4 && m[0].age < 60) {
				m[k].age = m[0].age + rnd(&s, 22, 30);
				m[k].male = chance(&s, 40);
				m[k].relation = "parent";
			} else if (m[0].age >= 55 && chance(&s, 50)) {
				m[k].age = rnd(&s, 0, 14);
				m[k].male = chance(&s, 52);
				m[k].relation = "grandchild";
			} else {
				m[k].age = m[0].age - rnd(&s, 21, 36);
				m[k].male = chance(&s, 52);
				m[k].relation = "child";
			}
			if (m[k].age < 0)
				m[k].age = rnd(&s, 0, 3);
			if (m[k].age > 99)
				m[k].age = 99;
		}
		for (k = 0; k < size && done < n; k++, done++) {
			char name[32], id[40], birth[32], phone[24], seqs[8], surveyed[16];
			const char *tags[5];
			int ntags = 0, year = 2022 - m[k].age, month = rnd(&s, 1, 12), day = rnd(&s, 1, 28);
			int seq = rnd(&s, 0, 99) * 10 + rnd(&s, 0, 4) * 2 + (m[k].male ? 1 : 0), t;
			/* Spouses and mothers keep their own surnames. */
			const char *sn = !strcmp(m[k].relation, "spouse") ||
					(!strcmp(m[k].relation, "parent") && !m[k].male)
					? surnames[rnd(&s, 0, NELEM(surnames) - 1)] : surname;
			make_name(name, sizeof(name), &s, sn);
			snprintf(birth, sizeof(birth), "%04d-%02d-%02d", year, month, day);
			/* A unique ID: bump the sequence (keeping its parity) on a clash. */
			for (;;) {
				snprintf(seqs, sizeof(seqs), "%03d", seq % 1000);
				snprintf(id, sizeof(id), "500243%04d%02d%02d%s", year, month, day, seqs);
				id[17] = vl_cn_id_check_char(id);
				id[18] = '\0';
				if ((rc = idset_add(ids, id)) < 0)
					goto out;
				if (rc == 1)
					break;
				seq += 2;
			}
			phone[0] = '\0';
			if (m[k].age >= 14 && chance(&s, 85)) {
				if (chance(&s, 10))
					snprintf(phone, sizeof(phone), "023-7844%04d", rnd(&s, 0, 9999));
				else
					snprintf(phone, sizeof(phone), "1380000%04d", rnd(&s, 0, 9999));
			}
			/* Tags in bytewise order, as a set is stored. */
			if (m[k].age < 16 && chance(&s, 4))
				tags[ntags++] = "child_in_difficulty";
			if (chance(&s, 4))
				tags[ntags++] = "disabled";
			if (size == 1 && m[k].age >= 60)
				tags[ntags++] = "elderly_alone";
			if (!m[k].male && m[k].age >= 20 && m[k].age <= 40 && chance(&s, 5))
				tags[ntags++] = "pregnant";
			if (m[k].age >= 40 && chance(&s, 8))
				tags[ntags++] = "special_disease";
			rc = vl_buf_printf(out, "  - name: \"%s\"\n    id_number: \"%s\"\n    gender: %s\n"
					"    birth_date: \"%s\"\n", name, id, m[k].male ? "male" : "female", birth);
			if (rc >= 0 && phone[0])
				rc = vl_buf_printf(out, "    phone: \"%s\"\n", phone);
			if (rc >= 0)
				rc = vl_buf_printf(out, "    residence_kind: %s\n    household_no: \"%s-%s%04zu\"\n"
						"    relation: %s\n    address: \"%s %d 组 %d 号\"\n"
						"    grid: \"%s第 %d 网格\"\n",
						migrant ? "migrant" : "registered", v->code, migrant ? "L" : "", hh,
						m[k].relation, v->short_name, group, house, v->short_name, grid);
			if (rc >= 0 && ntags) {
				rc = vl_buf_puts(out, "    tags: [");
				for (t = 0; rc >= 0 && t < ntags; t++)
					rc = vl_buf_printf(out, "%s%s", t ? ", " : "", tags[t]);
				if (rc >= 0)
					rc = vl_buf_puts(out, "]\n");
			}
			/* Surveyed in the spring 2022 round: 20 March to 9 April. */
			t = rnd(&s, 0, 20);
			snprintf(surveyed, sizeof(surveyed), "2022-%s-%02u", t < 12 ? "03" : "04",
					(unsigned)(t < 12 ? 20 + t : t - 11) % 100u);
			if (rc >= 0)
				rc = vl_buf_printf(out, "    source: %s\n    surveyed_on: \"%s\"\n"
						"    surveyed_by: \"%s\"\n",
						chance(&s, 80) ? "worker_survey" : "self_report", surveyed,
						workers[rnd(&s, 0, NELEM(workers) - 1)]);
			if (rc >= 0 && (ntags || chance(&s, 20)))
				rc = vl_buf_printf(out, "    notes: \"%s\"\n", notes[rnd(&s, 0, NELEM(notes) - 1)]);
			if (rc < 0)
				goto out;
		}
	}
out:
	return rc;
}
