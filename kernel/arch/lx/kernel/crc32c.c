// SPDX-License-Identifier: GPL-2.0
/*
 * crc32c.c - CRC-32C with the CPU's crc32 instruction (SSE4.2).
 *
 * ext4 and jbd2 checksum their metadata with the crypto API's "crc32c":
 * ext4 the inode at each update of it, the block bitmap at each
 * allocation, jbd2 each block it logs.  The generic one works through
 * tables, ~1 byte a cycle; arch/x86 has crc32c-intel, which lx cannot
 * use.  This one takes 8 bytes an instruction (crc32 works on general
 * registers: no vector state touched), and goes in above crc32c-generic
 * where the CPU has the instruction and agrees with the generic one at
 * every length and alignment of a test buffer.
 */
#include <crypto/internal/hash.h>
#include <linux/crc32.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <asm/unaligned.h>

struct lx_crc32c_ctx {
	u32 key;
};

/* the crc as ext4 and jbd2 read it: the only field, at offset 0 */
struct lx_crc32c_desc {
	u32 crc;
};

static u32 crc32c_hw(u32 crc, const u8 *p, unsigned int len)
{
	unsigned long c = crc;

	for (; len >= 8; len -= 8, p += 8)
		asm("crc32q %1, %0" : "+r"(c) : "rm"(get_unaligned((const u64 *)p)));
	for (; len; len--, p++)
		asm("crc32b %1, %k0" : "+r"(c) : "rm"(*p));
	return c;
}

static int lx_crc32c_cra_init(struct crypto_tfm *tfm)
{
	struct lx_crc32c_ctx *ctx = crypto_tfm_ctx(tfm);

	ctx->key = ~0;
	return 0;
}

/* a key is the crc's starting value, little-endian */
static int lx_crc32c_setkey(struct crypto_shash *tfm, const u8 *key,
			    unsigned int keylen)
{
	struct lx_crc32c_ctx *ctx = crypto_shash_ctx(tfm);

	if (keylen != sizeof(u32))
		return -EINVAL;
	ctx->key = get_unaligned_le32(key);
	return 0;
}

static int lx_crc32c_init(struct shash_desc *desc)
{
	struct lx_crc32c_ctx *ctx = crypto_shash_ctx(desc->tfm);
	struct lx_crc32c_desc *d = shash_desc_ctx(desc);

	d->crc = ctx->key;
	return 0;
}

static int lx_crc32c_update(struct shash_desc *desc, const u8 *data,
			    unsigned int len)
{
	struct lx_crc32c_desc *d = shash_desc_ctx(desc);

	d->crc = crc32c_hw(d->crc, data, len);
	return 0;
}

static int lx_crc32c_final(struct shash_desc *desc, u8 *out)
{
	struct lx_crc32c_desc *d = shash_desc_ctx(desc);

	put_unaligned_le32(~d->crc, out);
	return 0;
}

static int lx_crc32c_finup(struct shash_desc *desc, const u8 *data,
			   unsigned int len, u8 *out)
{
	lx_crc32c_update(desc, data, len);
	return lx_crc32c_final(desc, out);
}

static int lx_crc32c_digest(struct shash_desc *desc, const u8 *data,
			    unsigned int len, u8 *out)
{
	lx_crc32c_init(desc);
	return lx_crc32c_finup(desc, data, len, out);
}

static struct shash_alg lx_crc32c_alg = {
	.digestsize = sizeof(u32),
	.setkey = lx_crc32c_setkey,
	.init = lx_crc32c_init,
	.update = lx_crc32c_update,
	.final = lx_crc32c_final,
	.finup = lx_crc32c_finup,
	.digest = lx_crc32c_digest,
	.descsize = sizeof(struct lx_crc32c_desc),
	.base = {
		.cra_name = "crc32c",
		.cra_driver_name = "crc32c-lx",
		.cra_priority = 200,
		.cra_flags = CRYPTO_ALG_OPTIONAL_KEY,
		.cra_blocksize = 1,
		.cra_ctxsize = sizeof(struct lx_crc32c_ctx),
		.cra_module = THIS_MODULE,
		.cra_init = lx_crc32c_cra_init,
	},
};

static bool cpu_has_crc32(void)
{
	unsigned int a = 1, b, c = 0, d;

	asm("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return c & (1U << 20);	/* SSE4.2 */
}

/* the instruction against the generic code: every length and alignment */
static bool __init lx_crc32c_agrees(void)
{
	static const char check[] = "123456789";
	u8 buf[80];
	unsigned int i, len;

	/* CRC-32C's check value */
	if (~crc32c_hw(~0, check, 9) != 0xe3069283)
		return false;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = i * 37 + 11;
	for (i = 0; i < 8; i++)
		for (len = 0; i + len <= sizeof(buf); len++)
			if (crc32c_hw(i * 0x01000193, buf + i, len) !=
			    __crc32c_le(i * 0x01000193, buf + i, len))
				return false;
	return true;
}

static int __init lx_crc32c_mod_init(void)
{
	if (!cpu_has_crc32())
		return 0;
	if (!lx_crc32c_agrees()) {
		pr_warn("lx: the crc32 instruction disagrees with crc32c-generic: not used\n");
		return 0;
	}
	return crypto_register_shash(&lx_crc32c_alg);
}
module_init(lx_crc32c_mod_init);
