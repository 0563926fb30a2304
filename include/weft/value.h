// Values crossing the embedding API (see weft/weft.h for the whole API).
//
// Out of Weft: a Handle. It refers to one Weft value and keeps it alive (a
// GC root) for as long as any copy of it exists; the last copy releases
// it. Its accessors are checked conversions: each returns an empty
// std::optional when the value is not of that type, and never converts
// silently (to_float() also takes ints, exactly as Weft's arithmetic does).
// A handle that outlives its VM is `expired()`: every accessor then returns
// empty and passing it to a VM is a Misuse error. Handles may be copied,
// read and dropped on any thread, including inside natives.
//
// Into Weft: an Arg, plain C++ data (nil, bool, int, float, string, array,
// map, or a Handle) that the VM turns into Weft values when a call starts.
// Converts implicitly from: bool; every integer type (size_t too; an
// unsigned value past INT64_MAX wraps, as a cast to int64_t); float and
// double; const char*, std::string, std::string_view; std::nullptr_t and
// std::nullopt (nil); std::optional<T> (nil when empty); std::vector<T>
// (an array); std::map and std::unordered_map with std::string keys (a
// map; std::map's order is kept); a Handle; and nestings of these:
// vm.call("f", {1, 2.5, "x", std::vector<int>{1, 2}}). Other pointers do
// not convert (no silent pointer-to-bool).
//
// Host objects (VM::new_object, weft/native.h's HostType): a handle on one
// has type() Object; type_name() is the name its host registered, and
// object<T>(type) its data pointer (nullptr when the value is not an
// object of that type, or the VM is gone).
//
// Result: what every request returns. No C++ exception crosses the API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace weft {

namespace detail {
struct HostState;  // the library's side (vm/api/host.h)
struct NativeFrame;
struct Access;
struct HostTypeInfo;
}  // namespace detail

class HostType;

// Weft's types, as the script's type() names them (type_name); Object is a
// host object, which type() names by its registered type ("object" here).
enum class Type : uint8_t { Nil, Bool, Int, Float, String, Array, Map, Function, Channel, WeakRef, Object };
const char* type_name(Type t);

class Handle {
 public:
  Handle() = default;  // nil
  Handle(const Handle& other);
  Handle(Handle&& other) noexcept;
  Handle& operator=(const Handle& other);
  Handle& operator=(Handle&& other) noexcept;
  ~Handle() {
    if (st_ != nullptr) drop();  // inline: a native's scalar result (an Arg) holds no handle
  }

  Type type() const;      // Nil when expired
  bool is_nil() const { return type() == Type::Nil; }
  bool expired() const;   // it refers to an object of a VM that was destroyed

  std::optional<bool> to_bool() const;
  std::optional<int64_t> to_int() const;
  std::optional<double> to_float() const;  // floats and ints
  std::optional<std::string> to_string() const;
  // Elements and entries (insertion order) as handles.
  std::optional<std::vector<Handle>> to_array() const;
  std::optional<std::vector<std::pair<Handle, Handle>>> to_map() const;
  // Bytes of a string, elements of an array, entries of a map.
  std::optional<size_t> size() const;
  std::optional<Handle> at(size_t index) const;          // an array's element
  std::optional<Handle> get(std::string_view key) const; // a map's value (nil if absent)
  // The value as print() writes it ("" when expired).
  std::string repr() const;
  // What the script's type() says ("" when expired): for a host object,
  // its type's registered name.
  std::string type_name() const;
  // A host object's data pointer when it is an object of `type`, else nullptr.
  void* object_data(const HostType& type) const;
  template <class T>
  T* object(const HostType& type) const {
    return static_cast<T*>(object_data(type));
  }
  // Slot i of a host object (empty when not one, or i out of range).
  std::optional<Handle> slot(size_t i) const;

 private:
  friend struct detail::Access;
  void drop();  // releases the GC-root slot
  std::shared_ptr<detail::HostState> st_;  // nullptr for non-heap values
  uint64_t bits_ = 0x02;  // the value (nil); an object's address when slot_ >= 0
  int32_t slot_ = -1;     // its GC-root slot in st_
};

class Arg {
 public:
  Arg() = default;  // nil
  Arg(std::nullptr_t) {}
  Arg(std::nullopt_t) {}
  Arg(bool b) : kind_(Kind::Bool), i_(b) {}
  Arg(char i) : kind_(Kind::Int), i_(i) {}
  Arg(signed char i) : kind_(Kind::Int), i_(i) {}
  Arg(unsigned char i) : kind_(Kind::Int), i_(i) {}
  Arg(short i) : kind_(Kind::Int), i_(i) {}
  Arg(unsigned short i) : kind_(Kind::Int), i_(i) {}
  Arg(int i) : kind_(Kind::Int), i_(i) {}
  Arg(long i) : kind_(Kind::Int), i_(i) {}
  Arg(long long i) : kind_(Kind::Int), i_(i) {}
  Arg(unsigned i) : kind_(Kind::Int), i_(i) {}
  Arg(unsigned long i) : kind_(Kind::Int), i_(int64_t(i)) {}
  Arg(unsigned long long i) : kind_(Kind::Int), i_(int64_t(i)) {}
  Arg(float d) : kind_(Kind::Float), d_(d) {}
  Arg(double d) : kind_(Kind::Float), d_(d) {}
  Arg(const char* s) : kind_(Kind::String), s_(s != nullptr ? s : "") {}
  Arg(char* s) : Arg(static_cast<const char*>(s)) {}
  Arg(std::string s) : kind_(Kind::String), s_(std::move(s)) {}
  Arg(std::string_view s) : kind_(Kind::String), s_(s) {}
  Arg(Handle h) : kind_(Kind::Handle), h_(std::move(h)) {}
  template <class T>
  Arg(T*) = delete;  // a pointer is no value: no silent pointer-to-bool
  template <class T>
  Arg(const std::optional<T>& o) {
    if (o) *this = Arg(*o);
  }
  template <class T>
  Arg(const std::vector<T>& items) : kind_(Kind::Array) {
    items_.reserve(items.size());
    for (const auto& x : items) items_.push_back(Arg(x));
  }
  template <class T, class C, class A>
  Arg(const std::map<std::string, T, C, A>& entries) : kind_(Kind::Map) {
    add_entries(entries);
  }
  template <class T, class H, class E, class A>
  Arg(const std::unordered_map<std::string, T, H, E, A>& entries) : kind_(Kind::Map) {
    add_entries(entries);
  }
  static Arg array(std::vector<Arg> items);
  static Arg map(std::vector<std::pair<Arg, Arg>> entries);  // keys: strings, ints or bools

 private:
  friend struct detail::Access;
  enum class Kind : uint8_t { Nil, Bool, Int, Float, String, Array, Map, Handle };
  template <class M>
  void add_entries(const M& entries) {
    items_.reserve(2 * entries.size());
    for (const auto& [k, v] : entries) {
      items_.push_back(Arg(k));
      items_.push_back(Arg(v));
    }
  }
  Kind kind_ = Kind::Nil;
  int64_t i_ = 0;           // Bool, Int
  double d_ = 0;            // Float
  std::string s_;           // String
  std::vector<Arg> items_;  // Array; Map: key, value, key, value, ...
  Handle h_;                // Handle
};

struct Result {
  enum Kind {
    Ok,
    Compile,   // message: every diagnostic, formatted ("file.wf:L:C: error: ...", line, caret)
    Runtime,   // message: the error's message; traceback: "  at NAME (file.wf:LINE)" lines
    Deadlock,  // every goroutine is asleep: `all goroutines are asleep - deadlock!`;
               // traceback: "  goroutine N [chan receive]: at NAME (file.wf:LINE)" lines
    Misuse,    // the request cannot be honoured (see the message): a host error, not the script's
    Io,        // a file cannot be read; message says why
    Exit,      // the script called os.exit(code) (a VM whose os.exit ends the run, not the
               // process: Config::exit_ends_process false): exit_code is code & 0xff,
               // message "os.exit(CODE)", traceback where it was called
  } kind = Ok;
  std::string message;
  std::string traceback;
  int exit_code = 0;  // valid iff kind == Exit
  Handle value;  // what a call, get or load returned (nil otherwise)
  bool ok() const { return kind == Ok; }
};

// "ok", "compile error", "runtime error", "deadlock", "misuse", "i/o error", "exit".
const char* to_string(Result::Kind kind);

}  // namespace weft
