#include "sandboxd/seccomp/arg_conditions.h"

#include <iterator>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace secureos::sandboxd {
namespace {

using Op = v1::ArgFilter::Op;
using ::testing::ElementsAre;

constexpr uint64_t kInteresting[] = {
    0,          1,          2,          5,       7,     8,           40,         900,
    0xffffffff, 1ull << 32, 0x7e020000, 0x20000, ~0ull, 0x100000384, 0x80000000, 0x7e020011};

class Random {
 public:
  explicit Random(uint32_t seed) : gen_(seed) {}
  uint64_t Value() {
    if (Below(4) == 0) return gen_();
    return kInteresting[Below(std::size(kInteresting))];
  }
  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(gen_); }
  ArgLiteral Literal() {
    ArgLiteral l;
    l.index = static_cast<uint32_t>(Below(2));  // Few arguments: they collide often.
    l.op = static_cast<Op>(1 + Below(7));
    l.value = Value();
    if (l.op == v1::ArgFilter::OP_MASKED_EQ) {
      l.value_two = Below(3) == 0 ? Value() : (Value() & l.value);
    }
    return l;
  }
  Conjunction Conj(size_t max) {
    Conjunction c;
    for (size_t n = Below(max + 1); n > 0; --n) c.push_back(Literal());
    return c;
  }
  void Args(uint64_t args[6]) {
    for (int i = 0; i < 6; ++i) args[i] = Value();
  }

 private:
  std::mt19937_64 gen_;
};

ArgLiteral L(uint32_t index, Op op, uint64_t value, uint64_t value_two = 0) {
  return ArgLiteral{index, op, value, value_two};
}

TEST(ArgConditionsTest, HoldsComparesUnsigned64BitValues) {
  uint64_t args[6] = {900, ~0ull, 0x7e020000, 0, 0, 0};
  EXPECT_TRUE(Holds(L(0, v1::ArgFilter::OP_EQ, 900), args));
  EXPECT_FALSE(Holds(L(0, v1::ArgFilter::OP_EQ, 0x100000384), args));
  EXPECT_TRUE(Holds(L(1, v1::ArgFilter::OP_GT, 5), args));  // Unsigned: -1 is huge.
  EXPECT_TRUE(Holds(L(2, v1::ArgFilter::OP_MASKED_EQ, 0x20000, 0x20000), args));
  EXPECT_FALSE(Holds(L(2, v1::ArgFilter::OP_MASKED_EQ, 0x7e020000, 0), args));
  EXPECT_TRUE(Holds(Conjunction{}, args));
  EXPECT_FALSE(Holds(Dnf{}, args));
}

TEST(ArgConditionsTest, NegationIsExactForEveryOperator) {
  Random rnd(1);
  for (int i = 0; i < 20000; ++i) {
    const ArgLiteral l = rnd.Literal();
    const Dnf n = Negate(l);
    uint64_t args[6];
    rnd.Args(args);
    ASSERT_NE(Holds(l, args), Holds(n, args)) << "op " << l.op << " value " << l.value << " two "
                                              << l.value_two << " arg " << args[l.index];
  }
}

TEST(ArgConditionsTest, MaskedNegationIsOneComparisonPerMaskBit) {
  const Dnf n = Negate(L(0, v1::ArgFilter::OP_MASKED_EQ, 0x5, 0x1));
  EXPECT_THAT(n, ElementsAre(ElementsAre(L(0, v1::ArgFilter::OP_MASKED_EQ, 0x1, 0x0)),
                             ElementsAre(L(0, v1::ArgFilter::OP_MASKED_EQ, 0x4, 0x4))));
  // Never true (value bit outside the mask), so its negation always is.
  EXPECT_THAT(Negate(L(0, v1::ArgFilter::OP_MASKED_EQ, 0x1, 0x2)), ElementsAre(ElementsAre()));
}

TEST(ArgConditionsTest, SimplifyFindsContradictionsAndAbsorbsComparisons) {
  EXPECT_FALSE(Simplify({L(0, v1::ArgFilter::OP_EQ, 1), L(0, v1::ArgFilter::OP_EQ, 2)}));
  EXPECT_FALSE(Simplify({L(0, v1::ArgFilter::OP_EQ, 1), L(0, v1::ArgFilter::OP_GT, 5)}));
  EXPECT_FALSE(Simplify({L(1, v1::ArgFilter::OP_MASKED_EQ, 0x1, 0x2)}));
  EXPECT_THAT(*Simplify({L(0, v1::ArgFilter::OP_NE, 5), L(0, v1::ArgFilter::OP_EQ, 900)}),
              ElementsAre(L(0, v1::ArgFilter::OP_EQ, 900)));
  EXPECT_THAT(*Simplify({L(1, v1::ArgFilter::OP_EQ, 3), L(0, v1::ArgFilter::OP_LT, 9),
                         L(1, v1::ArgFilter::OP_EQ, 3)}),
              ElementsAre(L(0, v1::ArgFilter::OP_LT, 9), L(1, v1::ArgFilter::OP_EQ, 3)));
}

TEST(ArgConditionsTest, SimplifyAndAndKeepTheMeaning) {
  Random rnd(2);
  for (int i = 0; i < 5000; ++i) {
    const Dnf a = {rnd.Conj(2), rnd.Conj(2)};
    const Dnf b = {rnd.Conj(2)};
    const std::optional<Dnf> both = And(a, b, 100);
    ASSERT_TRUE(both.has_value());
    for (int j = 0; j < 20; ++j) {
      uint64_t args[6];
      rnd.Args(args);
      ASSERT_EQ(Holds(*both, args), Holds(a, args) && Holds(b, args));
      std::optional<Conjunction> s = Simplify(a[0]);
      ASSERT_EQ(s.has_value() && Holds(*s, args), Holds(a[0], args));
    }
  }
}

TEST(ArgConditionsTest, AndGivesUpBeyondTheBound) {
  const Dnf a = Negate(L(0, v1::ArgFilter::OP_MASKED_EQ, 0xff, 0));  // 8 terms.
  const Dnf b = Negate(L(1, v1::ArgFilter::OP_MASKED_EQ, 0xff, 0));  // 8 terms.
  EXPECT_FALSE(And(a, b, 63).has_value());
  ASSERT_TRUE(And(a, b, 64).has_value());
  EXPECT_EQ(And(a, b, 64)->size(), 64u);
}

// Brute force: the class of the last matching rule.
bool LastMatchAllows(const std::vector<ClassRule>& rules, const uint64_t args[6]) {
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    if (Holds(it->condition, args)) return it->allow;
  }
  return false;
}

TEST(ArgConditionsTest, WhereLastMatchIsAgreesWithBruteForce) {
  Random rnd(3);
  int checked = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<ClassRule> rules = {ClassRule{rnd.Below(2) == 0, {}}};
    for (size_t n = 1 + rnd.Below(5); n > 0; --n) {
      rules.push_back(ClassRule{rnd.Below(2) == 0, rnd.Conj(2)});
    }
    const bool want = rnd.Below(2) == 0;
    const std::optional<Dnf> where = WhereLastMatchIs(rules, want, 256);
    if (!where.has_value()) continue;
    ++checked;
    for (int j = 0; j < 30; ++j) {
      uint64_t args[6];
      rnd.Args(args);
      ASSERT_EQ(Holds(*where, args), LastMatchAllows(rules, args) == want) << "case " << i;
    }
  }
  EXPECT_GT(checked, 2500);
}

TEST(ArgConditionsTest, AnUnconditionalRuleShadowsEverythingBefore) {
  const std::vector<ClassRule> rules = {
      ClassRule{false, {}},
      ClassRule{true, {L(0, v1::ArgFilter::OP_EQ, 1)}},
      ClassRule{false, {}},
      ClassRule{true, {L(0, v1::ArgFilter::OP_EQ, 2)}},
  };
  EXPECT_THAT(*WhereLastMatchIs(rules, true, 8),
              ElementsAre(ElementsAre(L(0, v1::ArgFilter::OP_EQ, 2))));
  EXPECT_THAT(*WhereLastMatchIs(rules, false, 8),
              ElementsAre(ElementsAre(L(0, v1::ArgFilter::OP_NE, 2))));
}

}  // namespace
}  // namespace secureos::sandboxd
