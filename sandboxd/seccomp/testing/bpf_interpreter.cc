#include "sandboxd/seccomp/testing/bpf_interpreter.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace secureos::sandboxd::testing {
namespace {

struct Machine {
  uint32_t a = 0;
  uint32_t x = 0;
  uint32_t mem[BPF_MEMWORDS] = {};
};

absl::Status Bad(size_t pc, const sock_filter& ins) {
  return absl::InvalidArgumentError(
      absl::StrCat("instruction ", pc, ": code 0x", absl::Hex(ins.code), " k=", ins.k));
}

bool Alu(uint16_t op, uint32_t operand, uint32_t* a) {
  switch (op) {
    case BPF_ADD:
      *a += operand;
      return true;
    case BPF_SUB:
      *a -= operand;
      return true;
    case BPF_MUL:
      *a *= operand;
      return true;
    case BPF_DIV:
      if (operand == 0) return false;
      *a /= operand;
      return true;
    case BPF_MOD:
      if (operand == 0) return false;
      *a %= operand;
      return true;
    case BPF_OR:
      *a |= operand;
      return true;
    case BPF_AND:
      *a &= operand;
      return true;
    case BPF_XOR:
      *a ^= operand;
      return true;
    case BPF_LSH:
      *a = operand >= 32 ? 0 : *a << operand;
      return true;
    case BPF_RSH:
      *a = operand >= 32 ? 0 : *a >> operand;
      return true;
    case BPF_NEG:
      *a = 0 - *a;
      return true;
    default:
      return false;
  }
}

bool JumpTaken(uint16_t op, uint32_t a, uint32_t operand) {
  switch (op) {
    case BPF_JEQ:
      return a == operand;
    case BPF_JGT:
      return a > operand;
    case BPF_JGE:
      return a >= operand;
    case BPF_JSET:
      return (a & operand) != 0;
    default:
      return false;
  }
}

// Loads into A or X; false for an invalid load.
bool Load(const sock_filter& ins, const seccomp_data& data, const Machine& m, uint32_t* out) {
  switch (BPF_MODE(ins.code)) {
    case BPF_IMM:
      *out = ins.k;
      return true;
    case BPF_LEN:
      *out = sizeof(seccomp_data);
      return true;
    case BPF_MEM:
      if (ins.k >= BPF_MEMWORDS) return false;
      *out = m.mem[ins.k];
      return true;
    case BPF_ABS:
      if (BPF_CLASS(ins.code) != BPF_LD || BPF_SIZE(ins.code) != BPF_W || ins.k % 4 != 0 ||
          ins.k + 4 > sizeof(seccomp_data)) {
        return false;
      }
      std::memcpy(out, reinterpret_cast<const char*>(&data) + ins.k, 4);
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<uint32_t> RunSeccompProgram(const sock_fprog& program, const seccomp_data& data) {
  Machine m;
  for (size_t pc = 0; pc < program.len; ++pc) {
    const sock_filter& ins = program.filter[pc];
    const uint32_t src = BPF_SRC(ins.code) == BPF_X ? m.x : ins.k;
    switch (BPF_CLASS(ins.code)) {
      case BPF_LD:
        if (!Load(ins, data, m, &m.a)) return Bad(pc, ins);
        break;
      case BPF_LDX:
        if (!Load(ins, data, m, &m.x)) return Bad(pc, ins);
        break;
      case BPF_ST:
      case BPF_STX:
        if (ins.k >= BPF_MEMWORDS) return Bad(pc, ins);
        m.mem[ins.k] = BPF_CLASS(ins.code) == BPF_ST ? m.a : m.x;
        break;
      case BPF_ALU:
        if (!Alu(BPF_OP(ins.code), src, &m.a)) return Bad(pc, ins);
        break;
      case BPF_JMP:
        if (BPF_OP(ins.code) == BPF_JA) {
          pc += ins.k;
        } else {
          pc += JumpTaken(BPF_OP(ins.code), m.a, src) ? ins.jt : ins.jf;
        }
        break;
      case BPF_RET:
        return BPF_RVAL(ins.code) == BPF_A ? m.a : ins.k;
      case BPF_MISC:
        if (BPF_MISCOP(ins.code) == BPF_TAX) {
          m.x = m.a;
        } else {
          m.a = m.x;
        }
        break;
      default:
        return Bad(pc, ins);
    }
  }
  return absl::InvalidArgumentError("ran off the end of the program");
}

}  // namespace secureos::sandboxd::testing
