#include "sandboxd/seccomp/arg_conditions.h"

#include <algorithm>
#include <tuple>

namespace secureos::sandboxd {

using Op = v1::ArgFilter::Op;

ArgLiteral ArgLiteral::From(const v1::ArgFilter& filter) {
  return ArgLiteral{filter.index(), filter.op(), filter.value(), filter.value_two()};
}

bool ArgLiteral::operator==(const ArgLiteral& o) const {
  return std::tie(index, op, value, value_two) == std::tie(o.index, o.op, o.value, o.value_two);
}

bool ArgLiteral::operator<(const ArgLiteral& o) const {
  return std::tie(index, op, value, value_two) < std::tie(o.index, o.op, o.value, o.value_two);
}

namespace {

bool Compare(Op op, uint64_t arg, uint64_t value, uint64_t value_two) {
  switch (op) {
    case v1::ArgFilter::OP_EQ:
      return arg == value;
    case v1::ArgFilter::OP_NE:
      return arg != value;
    case v1::ArgFilter::OP_LT:
      return arg < value;
    case v1::ArgFilter::OP_LE:
      return arg <= value;
    case v1::ArgFilter::OP_GT:
      return arg > value;
    case v1::ArgFilter::OP_GE:
      return arg >= value;
    case v1::ArgFilter::OP_MASKED_EQ:
      return (arg & value) == value_two;
    default:
      return false;  // Validation refuses other ops before anything compiles.
  }
}

ArgLiteral WithOp(const ArgLiteral& l, Op op) {
  ArgLiteral out = l;
  out.op = op;
  return out;
}

}  // namespace

bool Holds(const ArgLiteral& l, const uint64_t args[6]) {
  return l.index < 6 && Compare(l.op, args[l.index], l.value, l.value_two);
}

bool Holds(const Conjunction& c, const uint64_t args[6]) {
  return std::all_of(c.begin(), c.end(), [&](const ArgLiteral& l) { return Holds(l, args); });
}

bool Holds(const Dnf& d, const uint64_t args[6]) {
  return std::any_of(d.begin(), d.end(), [&](const Conjunction& c) { return Holds(c, args); });
}

Dnf Negate(const ArgLiteral& l) {
  switch (l.op) {
    case v1::ArgFilter::OP_EQ:
      return {{WithOp(l, v1::ArgFilter::OP_NE)}};
    case v1::ArgFilter::OP_NE:
      return {{WithOp(l, v1::ArgFilter::OP_EQ)}};
    case v1::ArgFilter::OP_LT:
      return {{WithOp(l, v1::ArgFilter::OP_GE)}};
    case v1::ArgFilter::OP_GE:
      return {{WithOp(l, v1::ArgFilter::OP_LT)}};
    case v1::ArgFilter::OP_LE:
      return {{WithOp(l, v1::ArgFilter::OP_GT)}};
    case v1::ArgFilter::OP_GT:
      return {{WithOp(l, v1::ArgFilter::OP_LE)}};
    default:
      break;
  }
  if ((l.value_two & ~l.value) != 0) return {{}};  // Never held: its negation always does.
  Dnf out;
  for (int bit = 0; bit < 64; ++bit) {
    const uint64_t b = uint64_t{1} << bit;
    if ((l.value & b) == 0) continue;
    out.push_back({ArgLiteral{l.index, v1::ArgFilter::OP_MASKED_EQ, b, ~l.value_two & b}});
  }
  return out;
}

Dnf Negate(const Conjunction& c) {
  Dnf out;
  for (const ArgLiteral& l : c) {
    Dnf n = Negate(l);
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

std::optional<Conjunction> Simplify(Conjunction c) {
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  for (const ArgLiteral& l : c) {
    if (l.op == v1::ArgFilter::OP_MASKED_EQ && (l.value_two & ~l.value) != 0) return std::nullopt;
  }
  Conjunction out;
  for (const ArgLiteral& l : c) {
    // An equality on the same argument decides every other comparison of it.
    auto eq = std::find_if(c.begin(), c.end(), [&](const ArgLiteral& e) {
      return e.index == l.index && e.op == v1::ArgFilter::OP_EQ;
    });
    if (eq == c.end() || *eq == l) {
      out.push_back(l);
    } else if (!Compare(l.op, eq->value, l.value, l.value_two)) {
      return std::nullopt;
    }
  }
  return out;
}

std::optional<Dnf> And(const Dnf& a, const Dnf& b, size_t max_terms) {
  Dnf out;
  for (const Conjunction& x : a) {
    for (const Conjunction& y : b) {
      Conjunction both = x;
      both.insert(both.end(), y.begin(), y.end());
      std::optional<Conjunction> s = Simplify(std::move(both));
      if (!s.has_value()) continue;
      if (std::find(out.begin(), out.end(), *s) != out.end()) continue;
      if (out.size() == max_terms) return std::nullopt;
      out.push_back(*std::move(s));
    }
  }
  return out;
}

std::optional<Dnf> WhereLastMatchIs(const std::vector<ClassRule>& rules, bool want,
                                    size_t max_terms) {
  Dnf result;
  Dnf no_later_other = {{}};  // No later rule of the other class matches.
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    if (it->allow == want) {
      std::optional<Dnf> here = And({it->condition}, no_later_other, max_terms);
      if (!here.has_value() || result.size() + here->size() > max_terms) return std::nullopt;
      result.insert(result.end(), here->begin(), here->end());
    } else {
      std::optional<Dnf> next = And(no_later_other, Negate(it->condition), max_terms);
      if (!next.has_value()) return std::nullopt;
      no_later_other = *std::move(next);
    }
    if (it->condition.empty()) break;  // Unconditional: every earlier rule is shadowed.
  }
  return result;
}

}  // namespace secureos::sandboxd
