/*
 * String instructions that fault half way: a #PF in the middle of REP MOVS
 * or REP STOS must leave ECX/ESI/EDI at the element that faulted, EIP at
 * the instruction, and the handler's fix must let it finish.
 */
#include "rt.h"

#define PG 0x1000u
#define SRC 0x320000u
#define DST 0x330000u
#define DST2 0x340000u

static volatile int faults;
static volatile uint32_t f_ecx, f_esi, f_edi, f_eip, f_cr2, f_eflags;

static void pf_fix(struct frame *f)
{
	faults++;
	f_cr2 = read_cr2();
	f_ecx = f->ecx; f_esi = f->esi; f_edi = f->edi; f_eip = f->eip; f_eflags = f->eflags;
	uint32_t page = f_cr2 & ~(PG - 1);
	*rt_pte(page) |= PTE_P;
	invlpg(page);
}

extern uint8_t rep_movsb_at[], rep_stosl_at[], rep_movsl_at[];

void test_main(void)
{
	for (uint32_t i = 0; i < 3 * PG; i++)
		((volatile uint8_t *)SRC)[i] = (uint8_t)(i * 7 + 3);
	rt_paging_on();
	rt_set_handler(14, pf_fix);

	*rt_pte(DST + 2 * PG) &= ~PTE_P;
	invlpg(DST + 2 * PG);
	uint32_t ecx = 3 * PG, esi = SRC, edi = DST;
	__asm__ volatile("cld\n\t.globl rep_movsb_at\nrep_movsb_at: rep movsb"
			 : "+c"(ecx), "+S"(esi), "+D"(edi) : : "memory");
	CHECK_EQ("REP MOVSB: one fault", faults, 1);
	CHECK_EQ("REP MOVSB fault: CR2", f_cr2, DST + 2 * PG);
	CHECK_EQ("REP MOVSB fault: ECX left", f_ecx, PG);
	CHECK_EQ("REP MOVSB fault: ESI", f_esi, SRC + 2 * PG);
	CHECK_EQ("REP MOVSB fault: EDI", f_edi, DST + 2 * PG);
	CHECK_EQ("REP MOVSB fault: EIP at the instruction", f_eip, (uint32_t)rep_movsb_at);
	CHECK_EQ("REP MOVSB done: ECX", ecx, 0);
	CHECK_EQ("REP MOVSB done: ESI", esi, SRC + 3 * PG);
	CHECK_EQ("REP MOVSB done: EDI", edi, DST + 3 * PG);
	int same = 1;
	for (uint32_t i = 0; i < 3 * PG; i++)
		same &= ((volatile uint8_t *)DST)[i] == ((volatile uint8_t *)SRC)[i];
	check(same, "REP MOVSB copied everything", "destination differs");

	/* Backwards REP STOSD into a not-present lower page. */
	faults = 0;
	*rt_pte(DST2) &= ~PTE_P;
	invlpg(DST2);
	ecx = 2 * PG / 4;
	edi = DST2 + 2 * PG - 4;
	__asm__ volatile("std\n\t.globl rep_stosl_at\nrep_stosl_at: rep stosl\n\tcld"
			 : "+c"(ecx), "+D"(edi) : "a"(0x5eed5eed) : "memory");
	CHECK_EQ("REP STOSD (DF=1): one fault", faults, 1);
	CHECK_EQ("REP STOSD fault: CR2", f_cr2, DST2 + PG - 4);
	CHECK_EQ("REP STOSD fault: ECX left", f_ecx, PG / 4);
	CHECK_EQ("REP STOSD fault: EDI", f_edi, DST2 + PG - 4);
	CHECK_EQ("REP STOSD fault: EIP", f_eip, (uint32_t)rep_stosl_at);
	check(f_eflags & 0x400, "REP STOSD fault: DF still set", "eflags %#x", f_eflags);
	CHECK_EQ("REP STOSD done: ECX", ecx, 0);
	CHECK_EQ("REP STOSD done: EDI", edi, DST2 - 4);
	CHECK_EQ("REP STOSD wrote the low page", *(volatile uint32_t *)DST2, 0x5eed5eed);
	CHECK_EQ("REP STOSD wrote the high page", *(volatile uint32_t *)(DST2 + 2 * PG - 4), 0x5eed5eed);

	/* A fault on the source side: the element count stays exact. */
	faults = 0;
	*rt_pte(SRC + PG) &= ~PTE_P;
	invlpg(SRC + PG);
	ecx = 3 * PG / 4; esi = SRC; edi = DST;
	__asm__ volatile("cld\n\t.globl rep_movsl_at\nrep_movsl_at: rep movsl"
			 : "+c"(ecx), "+S"(esi), "+D"(edi) : : "memory");
	CHECK_EQ("REP MOVSD source fault: one fault", faults, 1);
	CHECK_EQ("REP MOVSD source fault: CR2", f_cr2, SRC + PG);
	CHECK_EQ("REP MOVSD source fault: ECX left", f_ecx, 2 * PG / 4);
	CHECK_EQ("REP MOVSD source fault: EIP", f_eip, (uint32_t)rep_movsl_at);
	CHECK_EQ("REP MOVSD done: ECX", ecx, 0);

	/* REPE CMPSB stops at the first difference. */
	((volatile uint8_t *)DST)[100] ^= 0xff;
	ecx = 3 * PG; esi = SRC; edi = DST;
	uint8_t zf;
	__asm__ volatile("cld\n\trepe cmpsb\n\tsetz %3" : "+c"(ecx), "+S"(esi), "+D"(edi), "=q"(zf) : : "memory");
	check(zf == 0 && ecx == 3 * PG - 101 && esi == SRC + 101, "REPE CMPSB stops after the difference",
	      "zf %u ecx %#x esi %#x", zf, ecx, esi);

	rt_set_handler(14, 0);
	rt_paging_off();
}
