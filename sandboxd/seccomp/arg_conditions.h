// Boolean algebra over syscall-argument comparisons, in the shape libseccomp takes.
//
// A libseccomp rule is one action for a syscall when a conjunction of comparisons holds, and
// several rules with the same action are a disjunction. CompiledFilter turns a profile's
// "last matching rule wins" into such disjunctions (DNF) for the kernel: this file provides
// exact negation (including of masked comparisons, bit by bit), conjunction with a size
// bound, and the simplifications libseccomp needs (it refuses two comparisons of the same
// argument in one rule).
#ifndef SECUREOS_SANDBOXD_SECCOMP_ARG_CONDITIONS_H_
#define SECUREOS_SANDBOXD_SECCOMP_ARG_CONDITIONS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "proto/sandboxd.pb.h"

namespace secureos::sandboxd {

// One comparison of argument `index` (0-5), unsigned 64-bit, as v1::ArgFilter defines it.
struct ArgLiteral {
  uint32_t index = 0;
  v1::ArgFilter::Op op = v1::ArgFilter::OP_EQ;
  uint64_t value = 0;
  uint64_t value_two = 0;  // OP_MASKED_EQ: (arg & value) == value_two.

  static ArgLiteral From(const v1::ArgFilter& filter);
  bool operator==(const ArgLiteral& o) const;
  bool operator<(const ArgLiteral& o) const;
};

using Conjunction = std::vector<ArgLiteral>;  // All hold. Empty: always true.
using Dnf = std::vector<Conjunction>;         // Any holds. Empty: never true.

bool Holds(const ArgLiteral& literal, const uint64_t args[6]);
bool Holds(const Conjunction& conjunction, const uint64_t args[6]);
bool Holds(const Dnf& dnf, const uint64_t args[6]);

// The exact negation of `literal`. NOT ((a & m) == v) becomes one single-bit masked
// comparison per bit of m ("bit b of a differs from bit b of v").
Dnf Negate(const ArgLiteral& literal);

// Sorted, without duplicates, with an equality absorbing every other comparison of the same
// argument; nullopt when the conjunction can never hold (a == 1 && a == 2, a == 1 && a > 5,
// a masked comparison whose value has bits outside its mask).
std::optional<Conjunction> Simplify(Conjunction conjunction);

// a AND b, simplified; nullopt when the result has more than `max_terms` conjunctions.
std::optional<Dnf> And(const Dnf& a, const Dnf& b, size_t max_terms);

// NOT c (the disjunction of its negated literals).
Dnf Negate(const Conjunction& c);

// One rule of a syscall, reduced to what the kernel decides: whether it lets the syscall
// run, and when it matches.
struct ClassRule {
  bool allow = false;
  Conjunction condition;
};

// The inputs for which the last matching rule of `rules` has allow == `want` (rules in
// profile order; the first should be an unconditional one standing for the default). nullopt
// when the answer exceeds `max_terms` conjunctions.
std::optional<Dnf> WhereLastMatchIs(const std::vector<ClassRule>& rules, bool want,
                                    size_t max_terms);

}  // namespace secureos::sandboxd

#endif  // SECUREOS_SANDBOXD_SECCOMP_ARG_CONDITIONS_H_
