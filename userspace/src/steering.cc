// SPDX-License-Identifier: GPL-2.0-only
#include "steering.h"

#include <linux/bpf.h>
#include <linux/filter.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "errno_text.h"

namespace lab {

int attach_reuseport_cbpf(int fd, unsigned sockets)
{
	sock_filter code[] = {
		{BPF_LD | BPF_W | BPF_ABS, 0, 0, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_CPU)},
		{BPF_ALU | BPF_MOD | BPF_K, 0, 0, sockets},
		{BPF_RET | BPF_A, 0, 0, 0},
	};
	sock_fprog prog{sizeof(code) / sizeof(code[0]), code};
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog));
}

namespace {

// The instruction builders of the kernel's tools/include/linux/filter.h,
// as far as this program needs them: no libbpf, no clang, no object file
// to ship, and the whole program is readable here.
constexpr bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return {code, dst, src, off, imm};
}
constexpr bpf_insn mov64_reg(uint8_t dst, uint8_t src)
{
	return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
constexpr bpf_insn mov64_imm(uint8_t dst, int32_t imm)
{
	return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
constexpr bpf_insn add64_imm(uint8_t dst, int32_t imm)
{
	return insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm);
}
// Two instructions: a 64-bit load of a map, by the fd of this process.
constexpr bpf_insn ld_map_fd(uint8_t dst, int fd)
{
	return insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd);
}
constexpr bpf_insn ld_imm64_high() { return insn(0, 0, 0, 0, 0); }
constexpr bpf_insn call(int32_t helper) { return insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper); }

long bpf(int cmd, bpf_attr &attr)
{
	return syscall(__NR_bpf, cmd, &attr, sizeof(attr));
}

Fd map_create(uint32_t type, uint32_t value_size, uint32_t entries)
{
	bpf_attr a{};
	a.map_type = type;
	a.key_size = sizeof(uint32_t);
	a.value_size = value_size;
	a.max_entries = entries;
	return Fd(bpf(BPF_MAP_CREATE, a));
}

} // namespace

std::optional<ReuseportRoundRobin> ReuseportRoundRobin::create(unsigned slots, std::string &why)
{
	ReuseportRoundRobin rr;
	rr.counter_ = map_create(BPF_MAP_TYPE_ARRAY, sizeof(uint32_t), 1);
	if (!rr.counter_) {
		why = errno == ENOSYS ? "kernel lacks bpf() (CONFIG_BPF_SYSCALL)" :
		      errno == EPERM  ? "bpf() needs CAP_BPF (run as root)" :
					errno_text("BPF_MAP_CREATE of an array");
		return std::nullopt;
	}
	rr.sockets_ = map_create(BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, sizeof(uint64_t), slots);
	if (!rr.sockets_) {
		why = errno == EINVAL ? "kernel lacks BPF_MAP_TYPE_REUSEPORT_SOCKARRAY (EINVAL)" :
					errno_text("BPF_MAP_CREATE of a REUSEPORT_SOCKARRAY");
		return std::nullopt;
	}

	// key = atomic_fetch_add(&counter[0], 1) % slots;
	// bpf_sk_select_reuseport(ctx, sockets, &key, 0); return SK_PASS.
	// SK_PASS with no socket selected (an empty slot) means "hash".
	const bpf_insn code[] = {
		mov64_reg(BPF_REG_6, BPF_REG_1), // ctx
		insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0), // u32 zero = 0
		ld_map_fd(BPF_REG_1, rr.counter_.get()),
		ld_imm64_high(),
		mov64_reg(BPF_REG_2, BPF_REG_10),
		add64_imm(BPF_REG_2, -4),
		call(BPF_FUNC_map_lookup_elem),
		insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 11, 0), // NULL: to "pass"
		mov64_imm(BPF_REG_1, 1),
		insn(BPF_STX | BPF_W | BPF_ATOMIC, BPF_REG_0, BPF_REG_1, 0, BPF_ADD | BPF_FETCH),
		insn(BPF_ALU | BPF_MOD | BPF_K, BPF_REG_1, 0, 0, int32_t(slots)),
		insn(BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_1, -8, 0), // u32 key
		mov64_reg(BPF_REG_1, BPF_REG_6),
		ld_map_fd(BPF_REG_2, rr.sockets_.get()),
		ld_imm64_high(),
		mov64_reg(BPF_REG_3, BPF_REG_10),
		add64_imm(BPF_REG_3, -8),
		mov64_imm(BPF_REG_4, 0),
		call(BPF_FUNC_sk_select_reuseport),
		mov64_imm(BPF_REG_0, SK_PASS), // pass:
		insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	std::vector<char> log(8192);
	bpf_attr a{};
	a.prog_type = BPF_PROG_TYPE_SK_REUSEPORT;
	a.expected_attach_type = BPF_SK_REUSEPORT_SELECT;
	a.insns = reinterpret_cast<uintptr_t>(code);
	a.insn_cnt = sizeof(code) / sizeof(code[0]);
	a.license = reinterpret_cast<uintptr_t>("GPL");
	a.log_buf = reinterpret_cast<uintptr_t>(log.data());
	a.log_size = log.size();
	a.log_level = 1;
	rr.prog_ = Fd(bpf(BPF_PROG_LOAD, a));
	if (!rr.prog_) {
		int err = errno;
		// The verifier's last line says what it refused.
		std::string v(log.data());
		while (!v.empty() && v.back() == '\n')
			v.pop_back();
		v = v.substr(v.find_last_of('\n') + 1);
		why = err == EPERM ? "loading a SK_REUSEPORT program needs CAP_BPF (run as root)" :
		      errno_text("BPF_PROG_LOAD of the SK_REUSEPORT program", err) +
			      (v.empty() ? "" : " (verifier: " + v + ")");
		return std::nullopt;
	}
	return rr;
}

int ReuseportRoundRobin::set(unsigned i, int fd)
{
	uint32_t key = i;
	uint64_t value = fd;
	bpf_attr a{};
	a.map_fd = sockets_.get();
	a.key = reinterpret_cast<uintptr_t>(&key);
	a.value = reinterpret_cast<uintptr_t>(&value);
	a.flags = BPF_ANY;
	return bpf(BPF_MAP_UPDATE_ELEM, a) ? -1 : 0;
}

int ReuseportRoundRobin::attach(int fd) const
{
	int prog = prog_.get();
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &prog, sizeof(prog));
}

} // namespace lab
