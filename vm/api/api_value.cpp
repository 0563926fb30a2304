// Values across the embedding API (include/weft/value.h): handles as GC
// roots in the runtime's HostState, checked reads of Weft objects from host
// threads, and Arg trees made into heap values on a goroutine.
//
// Every read of a heap object happens under HostState::mu with the runtime
// alive (vm/api/host.h explains why that makes host reads safe against the
// collector and against goroutines replacing a map's or array's storage).
// Values that are not heap objects (nil, bools, inline ints, floats) need no
// runtime: their handles carry no state.
#include <cstring>

#include "vm/api/host.h"
#include "vm/core/objops.h"

namespace weft {

namespace detail {

Handle Access::make_handle(const std::shared_ptr<HostState>& st, Value v, int32_t slot) {
  Handle h;
  h.bits_ = v.bits();
  h.slot_ = slot;
  if (slot >= 0) h.st_ = st;
  return h;
}

Value Access::value_of(const Handle& h) { return Value::from_bits(h.bits_); }

namespace {

// f(v) for the handle's value: directly for non-heap values, else under
// the state's lock while the runtime lives; `expired` otherwise.
template <typename R, typename F>
R read(const Handle& h, const R& expired, F f) {
  Value v = Access::value_of(h);
  const auto& st = Access::state_of(h);
  if (st == nullptr) return f(v);
  std::lock_guard lk(st->mu);
  if (st->rt == nullptr) return expired;
  return f(v);
}

// Under st->mu: a handle holding v.
Handle hold(const std::shared_ptr<HostState>& st, Value v) {
  return Access::make_handle(st, v, st->hold(v));
}

Type type_of(Value v) {
  if (v.is_inline_int()) return Type::Int;
  if (v.is_double()) return Type::Float;
  if (v.is_bool()) return Type::Bool;
  if (!v.is_obj()) return Type::Nil;
  switch (v.as_obj()->type) {
    case ObjType::String: return Type::String;
    case ObjType::BigInt: return Type::Int;
    case ObjType::Array: return Type::Array;
    case ObjType::Map: return Type::Map;
    case ObjType::Closure:
    case ObjType::Native: return Type::Function;
    case ObjType::Channel: return Type::Channel;
    case ObjType::WeakRef: return Type::WeakRef;
    case ObjType::Host: return Type::Object;
    default: return Type::Nil;
  }
}

}  // namespace

std::string Access::check_arg(const Arg& a, const HostState* st) {
  switch (a.kind_) {
    case Arg::Kind::Handle:
      if (a.h_.st_ == nullptr) return "";
      if (a.h_.st_.get() != st) return "a handle of another VM";
      if (a.h_.expired()) return "a handle of a destroyed VM";
      return "";
    case Arg::Kind::Array:
      for (const Arg& item : a.items_) {
        if (std::string e = check_arg(item, st); !e.empty()) return e;
      }
      return "";
    case Arg::Kind::Map:
      for (size_t i = 0; i < a.items_.size(); i += 2) {
        const Arg& k = a.items_[i];
        bool key_ok = k.kind_ == Arg::Kind::String || k.kind_ == Arg::Kind::Int || k.kind_ == Arg::Kind::Bool ||
                      (k.kind_ == Arg::Kind::Handle && read(k.h_, false, [](Value v) { return is_valid_key(v); }));
        if (!key_ok) return "invalid map key type";
        if (std::string e = check_arg(k, st); !e.empty()) return e;
        if (std::string e = check_arg(a.items_[i + 1], st); !e.empty()) return e;
      }
      return "";
    default: return "";
  }
}

Value Access::to_value(Runtime& rt, const Arg& a) {
  switch (a.kind_) {
    case Arg::Kind::Nil: return Value::nil();
    case Arg::Kind::Bool: return Value::boolean(a.i_ != 0);
    case Arg::Kind::Int: return rt.make_int(a.i_);
    case Arg::Kind::Float: return Value::number(a.d_);
    case Arg::Kind::String: return Value::object(rt.new_string(a.s_));
    case Arg::Kind::Handle: return value_of(a.h_);
    case Arg::Kind::Array: {
      Array* arr = rt.new_array(0, uint32_t(a.items_.size()));
      for (const Arg& item : a.items_) array_push(rt.heap(), arr, to_value(rt, item));
      return Value::object(arr);
    }
    case Arg::Kind::Map: {
      Map* m = rt.new_map(uint32_t(a.items_.size() / 2));
      for (size_t i = 0; i < a.items_.size(); i += 2) {
        Value k = to_value(rt, a.items_[i]);
        map_set(rt.heap(), m, k, to_value(rt, a.items_[i + 1]));
      }
      return Value::object(m);
    }
  }
  return Value::nil();
}

Result to_result(const Status& s) {
  Result r;
  switch (s.kind) {
    case Status::Ok: r.kind = Result::Ok; break;
    case Status::CompileError: r.kind = Result::Compile; break;
    case Status::RuntimeError: r.kind = Result::Runtime; break;
    case Status::Fatal: r.kind = Result::Deadlock; break;
    case Status::Misuse: r.kind = Result::Misuse; break;
    case Status::Exit: r.kind = Result::Exit; break;
  }
  r.exit_code = s.exit_code;
  r.message = s.message;
  r.traceback = s.traceback;
  return r;
}

}  // namespace detail

using detail::Access;
using detail::read;

const char* to_string(Result::Kind k) {
  switch (k) {
    case Result::Ok: return "ok";
    case Result::Compile: return "compile error";
    case Result::Runtime: return "runtime error";
    case Result::Deadlock: return "deadlock";
    case Result::Misuse: return "misuse";
    case Result::Io: return "i/o error";
    case Result::Exit: return "exit";
  }
  return "unknown";
}

const char* type_name(Type t) {
  switch (t) {
    case Type::Nil: return "nil";
    case Type::Bool: return "bool";
    case Type::Int: return "int";
    case Type::Float: return "float";
    case Type::String: return "string";
    case Type::Array: return "array";
    case Type::Map: return "map";
    case Type::Function: return "function";
    case Type::Channel: return "channel";
    case Type::WeakRef: return "weakref";
    case Type::Object: return "object";
  }
  return "?";
}

// ---- Handle ----

Handle::Handle(const Handle& other) : st_(other.st_), bits_(other.bits_), slot_(other.slot_) {
  if (st_ == nullptr) return;
  std::lock_guard lk(st_->mu);
  st_->retain(slot_);
}

Handle::Handle(Handle&& other) noexcept : st_(std::move(other.st_)), bits_(other.bits_), slot_(other.slot_) {
  other.bits_ = Value::nil().bits();
  other.slot_ = -1;
}

Handle& Handle::operator=(const Handle& other) {
  if (this != &other) *this = Handle(other);
  return *this;
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this == &other) return *this;
  Handle old(std::move(*this));  // released when this returns
  st_ = std::move(other.st_);
  bits_ = other.bits_;
  slot_ = other.slot_;
  other.bits_ = Value::nil().bits();
  other.slot_ = -1;
  return *this;
}

void Handle::drop() {
  std::lock_guard lk(st_->mu);
  st_->release(slot_);
  slot_ = -1;
}

bool Handle::expired() const {
  if (st_ == nullptr) return false;
  std::lock_guard lk(st_->mu);
  return st_->rt == nullptr;
}

Type Handle::type() const { return read(*this, Type::Nil, detail::type_of); }

std::optional<bool> Handle::to_bool() const {
  Value v = Access::value_of(*this);
  if (v.is_bool()) return v.as_bool();
  return std::nullopt;
}

std::optional<int64_t> Handle::to_int() const {
  return read(*this, std::optional<int64_t>(), [](Value v) -> std::optional<int64_t> {
    if (is_int(v)) return int_of(v);
    return std::nullopt;
  });
}

std::optional<double> Handle::to_float() const {
  return read(*this, std::optional<double>(), [](Value v) -> std::optional<double> {
    if (is_number(v)) return number_of(v);
    return std::nullopt;
  });
}

std::optional<std::string> Handle::to_string() const {
  return read(*this, std::optional<std::string>(), [](Value v) -> std::optional<std::string> {
    if (is_type(v, ObjType::String)) return std::string(as_string(v)->view());
    return std::nullopt;
  });
}

std::optional<std::vector<Handle>> Handle::to_array() const {
  using R = std::optional<std::vector<Handle>>;
  return read(*this, R(), [this](Value v) -> R {
    if (!is_type(v, ObjType::Array)) return std::nullopt;
    Array* a = as_array(v);
    std::vector<Handle> out;
    Value item;
    for (uint32_t i = 0; array_get(a, i, &item); i++) out.push_back(detail::hold(st_, item));
    return out;
  });
}

std::optional<std::vector<std::pair<Handle, Handle>>> Handle::to_map() const {
  using R = std::optional<std::vector<std::pair<Handle, Handle>>>;
  return read(*this, R(), [this](Value v) -> R {
    if (!is_type(v, ObjType::Map)) return std::nullopt;
    std::vector<std::pair<Handle, Handle>> out;
    MapEntry e;
    for (int64_t i = map_next(as_map(v), 0, &e); i >= 0; i = map_next(as_map(v), i + 1, &e))
      out.emplace_back(detail::hold(st_, e.key), detail::hold(st_, e.value));
    return out;
  });
}

std::optional<size_t> Handle::size() const {
  return read(*this, std::optional<size_t>(), [](Value v) -> std::optional<size_t> {
    if (is_type(v, ObjType::String)) return as_string(v)->len;
    if (is_type(v, ObjType::Array)) return as_array(v)->len;
    if (is_type(v, ObjType::Map)) return as_map(v)->count;
    return std::nullopt;
  });
}

std::optional<Handle> Handle::at(size_t index) const {
  return read(*this, std::optional<Handle>(), [&](Value v) -> std::optional<Handle> {
    Value item;
    if (!is_type(v, ObjType::Array) || !array_get(as_array(v), int64_t(index), &item)) return std::nullopt;
    return detail::hold(st_, item);
  });
}

std::optional<Handle> Handle::get(std::string_view key) const {
  return read(*this, std::optional<Handle>(), [&](Value v) -> std::optional<Handle> {
    if (!is_type(v, ObjType::Map)) return std::nullopt;
    MapEntry e;
    for (int64_t i = map_next(as_map(v), 0, &e); i >= 0; i = map_next(as_map(v), i + 1, &e)) {
      if (is_type(e.key, ObjType::String) && as_string(e.key)->view() == key) return detail::hold(st_, e.value);
    }
    return Handle();
  });
}

std::string Handle::repr() const {
  return read(*this, std::string(), [](Value v) {
    std::string out;
    format_value(out, v, false);
    return out;
  });
}

std::string Handle::type_name() const {
  return read(*this, std::string(), [](Value v) { return std::string(weft::type_name(v)); });
}

void* Handle::object_data(const HostType& type) const {
  const HostClass* cls = Access::info_of(type) ? &Access::info_of(type)->cls : nullptr;
  return read(*this, static_cast<void*>(nullptr), [cls](Value v) -> void* {
    if (cls == nullptr || !is_type(v, ObjType::Host) || as_host_object(v)->cls != cls) return nullptr;
    return as_host_object(v)->data;
  });
}

std::optional<Handle> Handle::slot(size_t i) const {
  return read(*this, std::optional<Handle>(), [&](Value v) -> std::optional<Handle> {
    if (!is_type(v, ObjType::Host) || i >= as_host_object(v)->nslots) return std::nullopt;
    return detail::hold(st_, host_slot_get(as_host_object(v), uint32_t(i)));
  });
}

const std::string& HostType::name() const {
  static const std::string none;
  return info_ ? info_->cls.name : none;
}

// ---- Arg ----

Arg Arg::array(std::vector<Arg> items) {
  Arg a;
  a.kind_ = Kind::Array;
  a.items_ = std::move(items);
  return a;
}

Arg Arg::map(std::vector<std::pair<Arg, Arg>> entries) {
  Arg a;
  a.kind_ = Kind::Map;
  a.items_.reserve(entries.size() * 2);
  for (auto& [k, v] : entries) {
    a.items_.push_back(std::move(k));
    a.items_.push_back(std::move(v));
  }
  return a;
}

}  // namespace weft
