#pragma once

// Hostile state-dict pickles: code execution through globals and the opcodes that
// call or construct, memo abuse, nesting bombs, cycles. Each must be refused with
// an IoError naming the opcode; the io tests check that, and the fuzz seed maker
// writes them as checkpoints so the fuzzer starts from them too.

#include <ostream>
#include <string>
#include <vector>

#include "io/checkpoint_builder.hpp"

namespace qsim::test {

struct MaliciousPickle {
  std::string name;     ///< also the file name stem
  std::string pickle;   ///< the data.pkl bytes
  std::string opcode;   ///< named in the error, as "(<opcode>)"
  std::string message;  ///< another part of the error
};

// gtest prints parameters with this instead of their bytes.
inline void PrintTo(const MaliciousPickle& c, std::ostream* os) { *os << c.name; }

inline std::string repeated(char op, int n) { return std::string(static_cast<std::size_t>(n), op); }
inline std::string repeated_text(const std::string& ops, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += ops;
  return out;
}

inline std::vector<MaliciousPickle> malicious_pickles() {
  const auto p = [] { return PickleBuilder().proto(); };
  constexpr int kBomb = 100000;
  return {
      {"os_system", p().global("os", "system").str("echo pwned").op('\x85').op('R').stop().bytes(), "GLOBAL",
       "forbidden global 'os.system'"},
      {"posix_system", p().global("posix", "system").str("id").op('\x85').op('R').stop().bytes(), "GLOBAL",
       "forbidden global 'posix.system'"},
      {"builtins_eval",
       PickleBuilder().raw("\x80\x04").str("builtins").str("eval").op('\x93').str("1+1").op('\x85').op('R').stop().bytes(),
       "STACK_GLOBAL", "forbidden global 'builtins.eval'"},
      {"builtins_import", p().global("builtins", "__import__").str("os").op('\x85').op('R').stop().bytes(), "GLOBAL",
       "forbidden global 'builtins.__import__'"},
      {"torch_load", p().global("torch", "load").str("x.pt").op('\x85').op('R').stop().bytes(), "GLOBAL",
       "forbidden global 'torch.load'"},
      {"storage_type_called", p().global("torch", "FloatStorage").op(')').op('R').stop().bytes(), "REDUCE",
       "'torch.FloatStorage' cannot be called"},
      {"ordered_dict_with_arguments", p().global("collections", "OrderedDict").str("x").op('\x85').op('R').stop().bytes(),
       "REDUCE", "expected 0"},
      {"inst_runs_a_class", p().raw("(iOS\nsystem\n").stop().bytes(), "unknown opcode", "0x69"},
      {"obj_builds_an_object", p().op('(').global("collections", "OrderedDict").raw("o").stop().bytes(),
       "unknown opcode", "0x6f"},
      {"newobj_builds_an_object", p().global("collections", "OrderedDict").op(')').raw("\x81").stop().bytes(),
       "unknown opcode", "0x81"},
      {"ext1_loads_a_registered_global", p().raw("\x82\x01").stop().bytes(), "unknown opcode", "0x82"},
      {"build_smuggles_a_global",
       p().empty_ordered_dict().op('}').str("__setstate__").global("os", "system").op('s').op('b').stop().bytes(),
       "GLOBAL", "forbidden global 'os.system'"},
      {"build_on_a_list", p().op(']').op('}').op('b').stop().bytes(), "BUILD", "BUILD on a list"},
      {"build_on_a_tuple", p().empty_ordered_dict().op(')').op('}').op('b').stop().bytes(), "BUILD",
       "BUILD on a tuple"},
      {"huge_memo_get", p().op('}').raw("j\xff\xff\xff\xff").stop().bytes(), "LONG_BINGET",
       "memo key 4294967295 was never stored"},
      {"huge_memo_put_and_get", p().op('}').raw("r\xff\xff\xff\xffj\xff\xff\xff\xff").stop().bytes(), "STOP",
       "STOP with 2 values"},
      {"mark_bomb", p().raw(repeated('(', kBomb) + repeated('l', kBomb)).stop().bytes(), "LIST", "nested more than 64"},
      {"append_bomb", p().raw(repeated(']', kBomb) + repeated('a', kBomb - 1)).stop().bytes(), "APPEND",
       "nested more than 64"},
      {"tuple_bomb", p().raw(")" + repeated('\x85', kBomb)).stop().bytes(), "TUPLE1", "nested more than 64"},
      {"setitem_bomb", p().raw(repeated_text(std::string("}X\x01\x00\x00\x00" "a", 7), kBomb) + "}" + repeated('s', kBomb)).stop().bytes(),
       "SETITEM", "nested more than 64"},
      {"string_past_the_end", p().raw(std::string("\x8d\xff\xff\xff\xff\xff\xff\xff\x7f", 9)).stop().bytes(),
       "BINUNICODE8", "runs past the end"},
      {"unsupported_protocol", PickleBuilder().raw("\x80\x09").op('}').stop().bytes(), "PROTO",
       "unsupported pickle protocol 9"},
      {"persistent_id_not_a_storage", p().str("x").op('Q').stop().bytes(), "BINPERSID", "persistent id"},
  };
}

}  // namespace qsim::test
