// Value encoding (vm/core/value.h), int boxing (Runtime::make_int) and float
// formatting (vm/interp/format.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "vm/core/objops.h"
#include "vm/interp/runtime.h"

namespace weft {
namespace {

std::string fmt(Value v, bool quote = false) {
  std::string s;
  format_value(s, v, quote);
  return s;
}

std::string fmt(double d) { return fmt(Value::number(d)); }

TEST(Value, ConstantsAreDistinct) {
  EXPECT_TRUE(Value::nil().is_nil());
  EXPECT_TRUE(Value::boolean(true).is_bool());
  EXPECT_TRUE(Value::boolean(false).is_bool());
  EXPECT_FALSE(Value::nil().is_bool());
  EXPECT_FALSE(Value::nil().truthy());
  EXPECT_FALSE(Value::boolean(false).truthy());
  EXPECT_TRUE(Value::boolean(true).truthy());
  EXPECT_TRUE(Value::inline_int(0).truthy());
  EXPECT_FALSE(Value::empty().is_obj());
  EXPECT_FALSE(Value::empty().is_inline_int());
  EXPECT_FALSE(Value::empty().is_double());
}

TEST(Value, InlineIntRoundTrip) {
  for (int64_t i : {int64_t(0), int64_t(1), int64_t(-1), int64_t(42), int64_t(-123456789),
                    Value::kMaxInline, Value::kMinInline}) {
    Value v = Value::inline_int(i);
    EXPECT_TRUE(v.is_inline_int()) << i;
    EXPECT_FALSE(v.is_double()) << i;
    EXPECT_FALSE(v.is_obj()) << i;
    EXPECT_EQ(v.as_inline_int(), i);
  }
}

TEST(Value, InlineBoundaries) {
  EXPECT_TRUE(Value::fits_inline(Value::kMaxInline));
  EXPECT_TRUE(Value::fits_inline(Value::kMinInline));
  EXPECT_FALSE(Value::fits_inline(Value::kMaxInline + 1));
  EXPECT_FALSE(Value::fits_inline(Value::kMinInline - 1));
  EXPECT_EQ(Value::kMaxInline, (int64_t(1) << 48) - 1);
}

TEST(Value, DoubleRoundTrip) {
  for (double d : {0.0, -0.0, 1.0, -1.5, 3.141592653589793, 1e300, -1e-300, 5e-324,
                   std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::max()}) {
    Value v = Value::number(d);
    EXPECT_TRUE(v.is_double()) << d;
    EXPECT_FALSE(v.is_inline_int()) << d;
    EXPECT_FALSE(v.is_obj()) << d;
    double back = v.as_double();
    EXPECT_EQ(std::signbit(back), std::signbit(d));
    EXPECT_EQ(back, d);
  }
}

TEST(Value, NaNIsCanonical) {
  double a = std::nan("1"), b = -std::nan("2");
  uint64_t bits = 0xFFF8000000000001ull;  // a negative quiet NaN with payload
  double c;
  std::memcpy(&c, &bits, 8);
  Value va = Value::number(a), vb = Value::number(b), vc = Value::number(c);
  EXPECT_EQ(va.bits(), vb.bits());
  EXPECT_EQ(va.bits(), vc.bits());
  EXPECT_EQ(va.bits(), kNanBits);
  EXPECT_TRUE(va.is_double());
  EXPECT_TRUE(std::isnan(va.as_double()));
  EXPECT_FALSE(values_equal(va, vb));  // NaN != NaN even with equal bits
}

TEST(Value, NumbersNeverLookLikeAddresses) {
  const uint64_t floor = uint64_t(1) << 49;
  for (int64_t i : {int64_t(0), int64_t(-1), Value::kMinInline, Value::kMaxInline}) {
    EXPECT_GE(Value::inline_int(i).bits(), floor) << i;
  }
  for (double d : {0.0, -0.0, 5e-324, -5e-324, 1.0, std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity(), std::nan("")}) {
    Value v = Value::number(d);
    EXPECT_GE(v.bits(), floor) << d;
    EXPECT_FALSE(v.is_obj()) << d;
  }
  // The largest double encoding stays below the int tag.
  double neg_nan;
  uint64_t top = 0xFFFFFFFFFFFFFFFFull;
  std::memcpy(&neg_nan, &top, 8);
  EXPECT_TRUE(Value::number(neg_nan).is_double());
  EXPECT_LT(Value::number(-std::numeric_limits<double>::infinity()).bits(), Value::kNumberTag);
}

TEST(Value, BigIntBoxing) {
  Runtime rt;
  Value small = rt.make_int(Value::kMaxInline);
  EXPECT_TRUE(small.is_inline_int());
  for (int64_t i : {Value::kMaxInline + 1, Value::kMinInline - 1, std::numeric_limits<int64_t>::max(),
                    std::numeric_limits<int64_t>::min()}) {
    Value v = rt.make_int(i);
    EXPECT_TRUE(v.is_obj()) << i;
    EXPECT_TRUE(is_type(v, ObjType::BigInt)) << i;
    EXPECT_TRUE(is_int(v)) << i;
    EXPECT_EQ(int_of(v), i);
    EXPECT_STREQ(type_name(v), "int");
    EXPECT_TRUE(values_equal(v, rt.make_int(i)));  // equal by value, not identity
  }
  EXPECT_EQ(fmt(rt.make_int(std::numeric_limits<int64_t>::min())), "-9223372036854775808");
  EXPECT_TRUE(values_equal(Value::inline_int(1), Value::number(1.0)));
  EXPECT_FALSE(values_equal(Value::inline_int(1), Value::number(1.5)));
}

TEST(Format, FloatsLikePythonRepr) {
  EXPECT_EQ(fmt(1.0), "1.0");
  EXPECT_EQ(fmt(0.1), "0.1");
  EXPECT_EQ(fmt(0.001), "0.001");
  EXPECT_EQ(fmt(0.0001), "0.0001");
  EXPECT_EQ(fmt(1e-05), "1e-05");
  EXPECT_EQ(fmt(100.0), "100.0");
  EXPECT_EQ(fmt(2.5), "2.5");
  EXPECT_EQ(fmt(-2.5), "-2.5");
  EXPECT_EQ(fmt(0.0), "0.0");
  EXPECT_EQ(fmt(-0.0), "-0.0");
  EXPECT_EQ(fmt(1e15), "1000000000000000.0");
  EXPECT_EQ(fmt(1e16), "1e+16");
  EXPECT_EQ(fmt(1.5e20), "1.5e+20");
  EXPECT_EQ(fmt(123456789.125), "123456789.125");
  EXPECT_EQ(fmt(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(fmt(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(fmt(1.2345678901234566e-7), "1.2345678901234566e-07");
  EXPECT_EQ(fmt(1e300), "1e+300");
  EXPECT_EQ(fmt(5e-324), "5e-324");
  EXPECT_EQ(fmt(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(fmt(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(fmt(std::nan("")), "nan");
}

TEST(Format, ContainersQuoteStrings) {
  Runtime rt;
  Array* a = rt.new_array(0, 0);
  array_push(rt.heap(), a, Value::inline_int(1));
  array_push(rt.heap(), a, Value::object(rt.new_string("a\n\"\x01")));
  array_push(rt.heap(), a, Value::number(2.5));
  array_push(rt.heap(), a, Value::nil());
  EXPECT_EQ(fmt(Value::object(a)), "[1, \"a\\n\\\"\\x01\", 2.5, nil]");
  array_push(rt.heap(), a, Value::object(a));
  EXPECT_EQ(fmt(Value::object(a)), "[1, \"a\\n\\\"\\x01\", 2.5, nil, [...]]");
  Map* m = rt.new_map(0);
  map_set(rt.heap(), m, Value::object(rt.new_string("k")), Value::inline_int(2));
  map_set(rt.heap(), m, Value::inline_int(3), Value::object(rt.new_string("x")));
  EXPECT_EQ(fmt(Value::object(m)), "{\"k\": 2, 3: \"x\"}");
  EXPECT_EQ(fmt(Value::object(rt.new_string("raw\n"))), "raw\n");
}

TEST(Map, InsertionOrderDeleteAndGrowth) {
  Runtime rt;
  Map* m = rt.new_map(0);
  for (int i = 0; i < 1000; i++) map_set(rt.heap(), m, Value::inline_int(i), Value::inline_int(i * 2));
  EXPECT_EQ(m->count, 1000u);
  for (int i = 0; i < 1000; i += 2) EXPECT_TRUE(map_delete(m, Value::inline_int(i)));
  EXPECT_EQ(m->count, 500u);
  for (int i = 0; i < 1000; i++) {
    Value v = map_get(m, Value::inline_int(i));
    if (i % 2 == 0) EXPECT_TRUE(v.is_empty());
    else EXPECT_EQ(v.as_inline_int(), i * 2);
  }
  for (int i = 1000; i < 3000; i++) map_set(rt.heap(), m, Value::inline_int(i), Value::nil());
  int64_t prev = -1, n = 0;
  for (int64_t e = map_next(m, 0); e >= 0; e = map_next(m, e + 1)) {
    int64_t k = m->data->entries()[e].key.as_inline_int();
    EXPECT_GT(k, prev);
    prev = k;
    n++;
  }
  EXPECT_EQ(n, 2500);
  Value s1 = Value::object(rt.new_string("name")), s2 = Value::object(rt.new_string("name"));
  map_set(rt.heap(), m, s1, Value::inline_int(7));
  EXPECT_EQ(map_get(m, s2).as_inline_int(), 7);
}

// The state racing pushes can leave an array in (vm/core/object.h, Race
// safety): a push that grew the array into a store of its own writes len
// after a slower push installed its smaller store, so len exceeds the
// capacity of the items. Every operation must stay within the items it
// read. Before, push copied len items out of the 4-item store into an
// 8-item one and wrote past both, and pop wrote past the store (the
// racy-script stress: bdwgc's free lists and a map's data overwritten).
Array* array_raced_past_its_items(Runtime& rt, uint32_t len) {
  Array* a = rt.new_array(0, 0);
  for (int i = 0; i < 4; i++) array_push(rt.heap(), a, Value::inline_int(i));
  EXPECT_EQ(a->items().capacity, 4u);
  a->len = len;
  return a;
}

Value call_builtin(Runtime& rt, const char* name, std::vector<Value> args) {
  int g = rt.find_global(name);
  EXPECT_GE(g, 0) << name;
  return rt.call(rt.main_thread(), rt.globals[size_t(g)], args.data(), int(args.size()));
}

TEST(Array, PushAfterARaceStaysWithinTheItems) {
  Runtime rt;
  Array* a = array_raced_past_its_items(rt, 40);
  array_push(rt.heap(), a, Value::inline_int(99));
  Array::Items it = a->items();
  ASSERT_LE(a->len, it.capacity);
  EXPECT_EQ(a->len, 5u);  // appended after the items it read: the racing pushes' elements are lost
  for (int i = 0; i < 4; i++) EXPECT_EQ(it.items[i].as_inline_int(), i);
  EXPECT_EQ(it.items[4].as_inline_int(), 99);
}

TEST(Array, BuiltinsAfterARaceStayWithinTheItems) {
  Runtime rt;
  Array* a = array_raced_past_its_items(rt, 40);
  Value av = Value::object(a);
  EXPECT_EQ(fmt(av), "[0, 1, 2, 3]");
  EXPECT_EQ(fmt(call_builtin(rt, "slice", {av, Value::inline_int(1)})), "[1, 2, 3]");
  EXPECT_EQ(fmt(call_builtin(rt, "copy", {av})), "[0, 1, 2, 3]");
  EXPECT_TRUE(call_builtin(rt, "sort", {av}).is_nil());
  EXPECT_EQ(a->items().capacity, 4u);
  Value last = call_builtin(rt, "pop", {av});
  ASSERT_TRUE(last.is_inline_int());
  EXPECT_EQ(last.as_inline_int(), 3);
  EXPECT_EQ(a->len, 3u);
  EXPECT_EQ(fmt(av), "[0, 1, 2]");
}

}  // namespace
}  // namespace weft
