#include "monitord/rules/condition.h"

#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "monitord/rules/event_fields.h"

namespace secureos::monitord {

// ---- Nodes

class ConditionNode {
 public:
  virtual ~ConditionNode() = default;
  virtual bool Eval(const common::v1::Event& e) const = 0;
  // Kinds this node restricts the event to (for and-ed terms), or nullopt.
  virtual std::optional<std::set<int>> Kinds() const { return std::nullopt; }
};

namespace {

using Node = std::shared_ptr<const ConditionNode>;

class AndNode : public ConditionNode {
 public:
  AndNode(Node a, Node b) : a_(std::move(a)), b_(std::move(b)) {}
  bool Eval(const common::v1::Event& e) const override { return a_->Eval(e) && b_->Eval(e); }
  std::optional<std::set<int>> Kinds() const override {
    std::optional<std::set<int>> a = a_->Kinds(), b = b_->Kinds();
    if (!a) return b;
    if (!b) return a;
    std::set<int> both;
    for (int k : *a) {
      if (b->count(k) != 0) both.insert(k);
    }
    return both;
  }

 private:
  Node a_, b_;
};

class OrNode : public ConditionNode {
 public:
  OrNode(Node a, Node b) : a_(std::move(a)), b_(std::move(b)) {}
  bool Eval(const common::v1::Event& e) const override { return a_->Eval(e) || b_->Eval(e); }
  std::optional<std::set<int>> Kinds() const override {
    std::optional<std::set<int>> a = a_->Kinds(), b = b_->Kinds();
    if (!a || !b) return std::nullopt;
    a->insert(b->begin(), b->end());
    return a;
  }

 private:
  Node a_, b_;
};

class NotNode : public ConditionNode {
 public:
  explicit NotNode(Node a) : a_(std::move(a)) {}
  bool Eval(const common::v1::Event& e) const override { return !a_->Eval(e); }

 private:
  Node a_;
};

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kContains, kStartsWith, kIn };

// A field compared with one or more literals of its own type.
class CompareNode : public ConditionNode {
 public:
  CompareNode(EventField field, Op op, std::vector<std::string> texts, std::vector<int64_t> numbers)
      : field_(std::move(field)), op_(op), texts_(std::move(texts)), numbers_(std::move(numbers)) {}

  bool Eval(const common::v1::Event& e) const override {
    const FieldValue v = ReadField(e, field_);
    if (!v.present) return false;
    if (field_.type == FieldType::kString) return EvalText(v.text);
    return EvalNumber(v.number);
  }

  std::optional<std::set<int>> Kinds() const override {
    if (field_.name != "kind" || (op_ != Op::kEq && op_ != Op::kIn)) return std::nullopt;
    std::set<int> kinds;
    for (int64_t n : numbers_) kinds.insert(static_cast<int>(n));
    return kinds;
  }

 private:
  bool EvalText(const std::string& t) const {
    switch (op_) {
      case Op::kEq: return t == texts_[0];
      case Op::kNe: return t != texts_[0];
      case Op::kContains: return absl::StrContains(t, texts_[0]);
      case Op::kStartsWith: return absl::StartsWith(t, texts_[0]);
      case Op::kIn:
        for (const std::string& x : texts_) {
          if (t == x) return true;
        }
        return false;
      default: return false;  // Refused at compile time.
    }
  }

  bool EvalNumber(int64_t n) const {
    const int64_t x = numbers_[0];
    switch (op_) {
      case Op::kEq: return n == x;
      case Op::kNe: return n != x;
      case Op::kLt: return n < x;
      case Op::kLe: return n <= x;
      case Op::kGt: return n > x;
      case Op::kGe: return n >= x;
      case Op::kIn:
        for (int64_t y : numbers_) {
          if (n == y) return true;
        }
        return false;
      default: return false;
    }
  }

  EventField field_;
  Op op_;
  std::vector<std::string> texts_;
  std::vector<int64_t> numbers_;
};

// ---- Lexer

enum class Tok { kEnd, kWord, kText, kNumber, kLParen, kRParen, kComma, kOp };

struct Token {
  Tok type = Tok::kEnd;
  std::string text;  // Word, text (unescaped), number, or operator.
  size_t column = 0;  // 1-based.
};

bool WordChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-' || c == '/'; }

absl::StatusOr<std::vector<Token>> Lex(absl::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (absl::ascii_isspace(c)) {
      ++i;
      continue;
    }
    Token t;
    t.column = i + 1;
    if (c == '(' || c == ')' || c == ',') {
      t.type = c == '(' ? Tok::kLParen : c == ')' ? Tok::kRParen : Tok::kComma;
      t.text = std::string(1, c);
      ++i;
    } else if (c == '"') {
      t.type = Tok::kText;
      ++i;
      for (;; ++i) {
        if (i >= s.size()) return absl::InvalidArgumentError(absl::StrCat("column ", t.column, ": unterminated text"));
        if (s[i] == '"') break;
        if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) ++i;
        t.text.push_back(s[i]);
      }
      ++i;
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
      t.type = Tok::kOp;
      t.text = std::string(1, c);
      if (i + 1 < s.size() && s[i + 1] == '=') t.text.push_back('=');
      if (t.text == "=" || t.text == "!") {
        return absl::InvalidArgumentError(absl::StrCat("column ", t.column, ": \"", t.text, "\" is not an operator (== or !=)"));
      }
      i += t.text.size();
    } else if (WordChar(c)) {
      while (i < s.size() && WordChar(s[i])) t.text.push_back(s[i++]);
      int64_t n;
      t.type = absl::SimpleAtoi(t.text, &n) ? Tok::kNumber : Tok::kWord;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("column ", t.column, ": unexpected \"", std::string(1, c), "\""));
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.column = s.size() + 1;
  out.push_back(end);
  return out;
}

// ---- Parser

class Parser {
 public:
  Parser(std::vector<Token> tokens, const ConditionContext& context)
      : tokens_(std::move(tokens)), context_(context) {}

  absl::StatusOr<Node> Parse() {
    absl::StatusOr<Node> n = ParseOr();
    if (!n.ok()) return n;
    if (Peek().type != Tok::kEnd) return Error("expected \"and\", \"or\" or the end");
    return n;
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool IsKeyword(const Token& t, const char* k) const { return t.type == Tok::kWord && t.text == k; }

  absl::Status Error(absl::string_view expected) const {
    const Token& t = Peek();
    return absl::InvalidArgumentError(absl::StrCat(
        "column ", t.column, ": ", expected, ", got ",
        t.type == Tok::kEnd ? std::string("the end") : absl::StrCat("\"", t.text, "\"")));
  }

  absl::StatusOr<Node> ParseOr() {
    absl::StatusOr<Node> left = ParseAnd();
    while (left.ok() && IsKeyword(Peek(), "or")) {
      Next();
      absl::StatusOr<Node> right = ParseAnd();
      if (!right.ok()) return right;
      left = Node(std::make_shared<OrNode>(*left, *right));
    }
    return left;
  }

  absl::StatusOr<Node> ParseAnd() {
    absl::StatusOr<Node> left = ParseUnary();
    while (left.ok() && IsKeyword(Peek(), "and")) {
      Next();
      absl::StatusOr<Node> right = ParseUnary();
      if (!right.ok()) return right;
      left = Node(std::make_shared<AndNode>(*left, *right));
    }
    return left;
  }

  absl::StatusOr<Node> ParseUnary() {
    const Token& t = Peek();
    if (IsKeyword(t, "not")) {
      Next();
      absl::StatusOr<Node> inner = ParseUnary();
      if (!inner.ok()) return inner;
      return Node(std::make_shared<NotNode>(*inner));
    }
    if (t.type == Tok::kLParen) {
      Next();
      absl::StatusOr<Node> inner = ParseOr();
      if (!inner.ok()) return inner;
      if (Peek().type != Tok::kRParen) return Error("expected \")\"");
      Next();
      return inner;
    }
    if (t.type != Tok::kWord || IsKeyword(t, "and") || IsKeyword(t, "or")) {
      return Error("expected a field, a macro, \"not\" or \"(\"");
    }
    return ParseComparisonOrMacro();
  }

  static std::optional<Op> OpOf(const Token& t) {
    if (t.type == Tok::kOp) {
      if (t.text == "==") return Op::kEq;
      if (t.text == "!=") return Op::kNe;
      if (t.text == "<") return Op::kLt;
      if (t.text == "<=") return Op::kLe;
      if (t.text == ">") return Op::kGt;
      if (t.text == ">=") return Op::kGe;
    }
    if (t.type == Tok::kWord) {
      if (t.text == "contains") return Op::kContains;
      if (t.text == "startswith") return Op::kStartsWith;
      if (t.text == "in") return Op::kIn;
    }
    return std::nullopt;
  }

  absl::StatusOr<Node> ParseComparisonOrMacro() {
    const Token name = Next();
    const std::optional<Op> op = OpOf(Peek());
    if (!op.has_value()) {
      if (Node macro = context_.FindMacro(name.text)) return macro;
      if (context_.FindList(name.text) != nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("column ", name.column, ": \"", name.text,
                                                       "\" is a list: use it after \"in\""));
      }
      absl::StatusOr<EventField> field = ResolveEventField(name.text);
      if (!field.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("column ", name.column, ": \"", name.text,
                                                       "\" is neither a macro nor an event field"));
      }
      return Error(absl::StrCat("expected an operator after ", name.text));
    }
    absl::StatusOr<EventField> field = ResolveEventField(name.text);
    if (!field.ok()) return absl::InvalidArgumentError(absl::StrCat("column ", name.column, ": ", field.status().message()));
    const Token op_token = Next();
    SECUREOS_RETURN_IF_ERROR(CheckOperator(*field, *op, op_token));
    std::vector<Token> values;
    if (*op == Op::kIn) {
      absl::StatusOr<std::vector<Token>> list = ParseList();
      if (!list.ok()) return list.status();
      values = std::move(*list);
    } else {
      const Token& v = Peek();
      if (v.type != Tok::kText && v.type != Tok::kNumber && v.type != Tok::kWord) {
        return Error(absl::StrCat("expected a value after \"", op_token.text, "\""));
      }
      values.push_back(Next());
    }
    return MakeCompare(std::move(*field), *op, values);
  }

  absl::Status CheckOperator(const EventField& f, Op op, const Token& t) const {
    const bool text = f.type == FieldType::kString;
    if (text && (op == Op::kLt || op == Op::kLe || op == Op::kGt || op == Op::kGe)) {
      return absl::InvalidArgumentError(absl::StrCat("column ", t.column, ": \"", t.text, "\" compares numbers; ",
                                                     f.name, " is text"));
    }
    if (!text && (op == Op::kContains || op == Op::kStartsWith)) {
      return absl::InvalidArgumentError(absl::StrCat("column ", t.column, ": \"", t.text, "\" needs a text field; ",
                                                     f.name, " is ", f.type == FieldType::kEnum ? "an enum" : "a number"));
    }
    return absl::OkStatus();
  }

  // "(" value {"," value} ")" or a list's name.
  absl::StatusOr<std::vector<Token>> ParseList() {
    std::vector<Token> values;
    if (Peek().type == Tok::kWord) {
      const Token name = Next();
      const std::vector<std::string>* items = context_.FindList(name.text);
      if (items == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("column ", name.column, ": no list \"", name.text, "\""));
      }
      for (const std::string& item : *items) {
        Token t;
        t.type = Tok::kText;
        t.text = item;
        t.column = name.column;
        values.push_back(t);
      }
      return values;
    }
    if (Peek().type != Tok::kLParen) return Error("expected \"(\" or a list's name after \"in\"");
    Next();
    for (;;) {
      const Token& v = Peek();
      if (v.type != Tok::kText && v.type != Tok::kNumber && v.type != Tok::kWord) return Error("expected a value");
      values.push_back(Next());
      if (Peek().type == Tok::kRParen) break;
      if (Peek().type != Tok::kComma) return Error("expected \",\" or \")\"");
      Next();
    }
    Next();
    return values;
  }

  absl::StatusOr<Node> MakeCompare(EventField field, Op op, const std::vector<Token>& values) {
    std::vector<std::string> texts;
    std::vector<int64_t> numbers;
    for (const Token& v : values) {
      if (field.type == FieldType::kString) {
        texts.push_back(v.text);
        continue;
      }
      int64_t n;
      if (v.type == Tok::kNumber && absl::SimpleAtoi(v.text, &n)) {
        numbers.push_back(n);
      } else if (field.type == FieldType::kEnum) {
        absl::StatusOr<int64_t> e = EnumValue(field, v.text);
        if (!e.ok()) return absl::InvalidArgumentError(absl::StrCat("column ", v.column, ": ", e.status().message()));
        numbers.push_back(*e);
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("column ", v.column, ": ", field.name, " is a number, got \"", v.text, "\""));
      }
    }
    return Node(std::make_shared<CompareNode>(std::move(field), op, std::move(texts), std::move(numbers)));
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  const ConditionContext& context_;
};

}  // namespace

Condition::Condition(std::shared_ptr<const ConditionNode> root) : root_(std::move(root)) {
  if (root_ == nullptr) return;
  if (std::optional<std::set<int>> k = root_->Kinds()) kinds_ = std::move(*k);
}

bool Condition::Matches(const common::v1::Event& event) const { return root_ != nullptr && root_->Eval(event); }

void ConditionContext::AddList(const std::string& name, std::vector<std::string> items) {
  lists_[name] = std::move(items);
}

absl::Status ConditionContext::AddMacro(const std::string& name, absl::string_view text) {
  absl::StatusOr<std::vector<Token>> tokens = Lex(text);
  if (!tokens.ok()) return tokens.status();
  absl::StatusOr<Node> node = Parser(std::move(*tokens), *this).Parse();
  if (!node.ok()) return node.status();
  macros_[name] = *node;
  return absl::OkStatus();
}

bool ConditionContext::Defines(const std::string& name) const {
  return lists_.count(name) != 0 || macros_.count(name) != 0;
}

const std::vector<std::string>* ConditionContext::FindList(const std::string& name) const {
  auto it = lists_.find(name);
  return it == lists_.end() ? nullptr : &it->second;
}

std::shared_ptr<const ConditionNode> ConditionContext::FindMacro(const std::string& name) const {
  auto it = macros_.find(name);
  return it == macros_.end() ? nullptr : it->second;
}

absl::StatusOr<Condition> CompileCondition(absl::string_view text, const ConditionContext& context) {
  absl::StatusOr<std::vector<Token>> tokens = Lex(text);
  if (!tokens.ok()) return tokens.status();
  absl::StatusOr<Node> node = Parser(std::move(*tokens), context).Parse();
  if (!node.ok()) return node.status();
  return Condition(*node);
}

}  // namespace secureos::monitord
