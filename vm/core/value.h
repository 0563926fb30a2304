// Values: 64-bit NaN-boxed words, JavaScriptCore-style.
//
// The encoding is chosen so that the collector can treat any word as a
// possible pointer and be exact about it:
//   - heap pointer  0000:PPPP:PPPP:PPPP  stored raw (upper 16 bits zero,
//                                         16-byte aligned, so bit 1 is clear)
//   - nil/false/true 0x02 / 0x06 / 0x07   small constants with bit 1 set
//   - int           FFFE..FFFF:xxxx...    49-bit two's complement payload
//   - double        bits(d) + 2^49        occupies 0002:... to FFFC:...
// A 64-bit int outside the inline range is boxed in a heap BigInt (type
// "int" all the same); arithmetic produces the inline form whenever it fits,
// so equal ints always have equal representations of one kind.
// No int or double encoding falls below 2^49, so none looks like a user-space
// address, and conservative scanning never retains an object through one.
//
// Rejected: pointer tagging in the low bits (conservative scanning would miss
// interior-tagged pointers), 48-bit ints with float overflow (breaks the
// language's 64-bit wrap-around contract).
#pragma once

#include <cstdint>
#include <cstring>

namespace weft {

struct Obj;

class Value {
 public:
  static constexpr uint64_t kNumberTag = 0xFFFE000000000000ull;  // ints: top 15 bits set
  static constexpr uint64_t kOtherTag = 0x2;                       // nil/bool: bit 1
  static constexpr uint64_t kDoubleOffset = 1ull << 49;
  static constexpr uint64_t kNil = 0x02, kFalse = 0x06, kTrue = 0x07;
  // Never a script-visible value: "no value" in map slots and the marker a
  // native returns after raising an error on its goroutine.
  static constexpr uint64_t kEmpty = 0x0a;
  static constexpr int64_t kMinInline = -(int64_t(1) << 48);
  static constexpr int64_t kMaxInline = (int64_t(1) << 48) - 1;

  constexpr Value() : bits_(kNil) {}
  static constexpr Value from_bits(uint64_t b) { Value v; v.bits_ = b; return v; }
  static constexpr Value nil() { return from_bits(kNil); }
  static constexpr Value empty() { return from_bits(kEmpty); }
  static constexpr Value boolean(bool b) { return from_bits(b ? kTrue : kFalse); }
  // Only for ints known to fit; use make_int() (vm/core/object.h) for any int64.
  static constexpr Value inline_int(int64_t i) {
    return from_bits(kNumberTag | (uint64_t(i) & ((1ull << 49) - 1)));
  }
  static constexpr bool fits_inline(int64_t i) { return i >= kMinInline && i <= kMaxInline; }
  static Value number(double d) {
    uint64_t b;
    if (d != d) [[unlikely]] b = 0x7FF8000000000000ull;  // one canonical NaN
    else std::memcpy(&b, &d, 8);
    return from_bits(b + kDoubleOffset);
  }
  static Value object(const Obj* o) { return from_bits(reinterpret_cast<uint64_t>(o)); }

  constexpr uint64_t bits() const { return bits_; }
  constexpr bool is_inline_int() const { return (bits_ & kNumberTag) == kNumberTag; }
  constexpr bool is_double() const { return (bits_ & kNumberTag) != 0 && !is_inline_int(); }
  constexpr bool is_obj() const { return (bits_ & 0xFFFF00000000000Full) == 0 && bits_ != 0; }
  constexpr bool is_nil() const { return bits_ == kNil; }
  constexpr bool is_bool() const { return (bits_ | 1) == kTrue; }
  constexpr bool is_empty() const { return bits_ == kEmpty; }
  // nil, false, true or empty: equal only to the same bits.
  constexpr bool is_immediate() const { return bits_ < 16; }
  constexpr bool truthy() const { return bits_ != kNil && bits_ != kFalse; }

  constexpr int64_t as_inline_int() const { return int64_t(bits_ << 15) >> 15; }
  double as_double() const {
    uint64_t b = bits_ - kDoubleOffset;
    double d;
    std::memcpy(&d, &b, 8);
    return d;
  }
  constexpr bool as_bool() const { return bits_ == kTrue; }
  Obj* as_obj() const { return reinterpret_cast<Obj*>(bits_); }

  constexpr bool operator==(const Value& o) const { return bits_ == o.bits_; }  // identity
  constexpr bool operator!=(const Value& o) const { return bits_ != o.bits_; }

 private:
  uint64_t bits_;
};

static_assert(sizeof(Value) == 8);

}  // namespace weft
