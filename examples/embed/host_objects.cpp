// Teaches: host objects (Lua's userdata). A C++ type registered with
// VM::define_type, objects made by a native constructor, methods that find
// their C++ data through self<T>(), a slot holding a script callback (a
// cycle between the object and the script's data is collected), and a
// finalizer that frees the C++ side exactly once: on the finalizer thread
// after the object died, or when the VM is destroyed.
//
//   host_objects host_objects.wf
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "weft/weft.h"

struct Sprite {
  double x = 0, y = 0;
};

std::atomic<int> g_alive{0};  // Sprites not yet finalized

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: host_objects host_objects.wf\n");
    return 1;
  }
  auto vm = std::make_unique<weft::VM>();

  weft::HostType sprite;
  weft::HostTypeDef def;
  def.name = "Sprite";
  def.finalizer = [](void* p) {
    delete static_cast<Sprite*>(p);
    g_alive--;
  };
  def.methods = {
      {"move", [](weft::NativeCall& c) -> weft::Arg {
         Sprite* s = c.self<Sprite>();
         s->x += c.float_arg(0);
         s->y += c.float_arg(1);
         return {};
       }, 2, 2},
      {"pos", [](weft::NativeCall& c) -> weft::Arg {
         Sprite* s = c.self<Sprite>();
         return std::vector<double>{s->x, s->y};
       }, 0, 0},
      // on_hit(f): keeps f in slot 0; hit() calls it with the sprite.
      {"on_hit", [](weft::NativeCall& c) -> weft::Arg {
         weft::Result r = c.vm().set_slot(c.receiver(), 0, c.function_arg(0));
         if (!r.ok()) c.raise(r.message);
         return {};
       }, 1, 1},
      {"hit", [](weft::NativeCall& c) -> weft::Arg {
         weft::Handle self = c.receiver();
         weft::Handle f = self.slot(0).value_or(weft::Handle());
         if (f.is_nil()) return {};
         weft::Result r = c.call(f, {self});
         if (!r.ok()) c.raise(r.message);
         return r.value;
       }, 0, 0},
  };
  weft::Result r = vm->define_type(std::move(def), &sprite);
  if (!r.ok()) return std::fprintf(stderr, "%s\n", r.message.c_str()), 1;

  // The constructor scripts call. On failure the data is still ours.
  r = vm->define({"sprite", [&sprite](weft::NativeCall& c) -> weft::Arg {
                    auto* s = new Sprite;
                    weft::Result o = c.vm().new_object(sprite, s, 1);
                    if (!o.ok()) {
                      delete s;
                      c.raise(o.message);
                    }
                    g_alive++;
                    return o.value;
                  }, 0, 0});
  if (!r.ok()) return std::fprintf(stderr, "%s\n", r.message.c_str()), 1;

  r = vm->load_file(argv[1]);
  if (!r.ok()) return std::fprintf(stderr, "%s\n%s", r.message.c_str(), r.traceback.c_str()), 1;

  // The host keeps one sprite through a handle and reads its data.
  weft::Result player = vm->call("spawn_player");
  Sprite* p = player.value.object<Sprite>(sprite);
  std::printf("host: player at (%g, %g), type %s\n", p->x, p->y, player.value.type_name().c_str());

  // The script made 1000 sprites and dropped them (each with a callback
  // that refers back to it): collections find them, and the finalizer
  // thread frees them soon after.
  vm->call("spawn_garbage", {1000});
  for (int i = 0; i < 500 && g_alive.load() > 1; i++) {
    vm->collect();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::printf("host: %d sprite alive after collecting\n", g_alive.load());

  vm.reset();  // finalizes the player too
  std::printf("host: %d sprites alive after the VM\n", g_alive.load());
  return 0;
}
