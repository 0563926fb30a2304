# Cross-compiling Weft for linux/arm64 on a Debian amd64 host:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake -DWEFT_BENCH=OFF
# with g++-aarch64-linux-gnu, libgc-dev:arm64, libgtest-dev:arm64 and
# qemu-user-static installed (`dpkg --add-architecture arm64` first);
# tools/ci-arm64.sh does all of it and runs the arm64 stage.
#
# The target's libraries are Debian's multiarch packages in
# /usr/lib/aarch64-linux-gnu, found through CMAKE_LIBRARY_ARCHITECTURE (the
# cross compiler reports it) and pkg-config's arm64 directory.
#
# Tests run under qemu-user with `-L /`: the guest's ld.so and libc are
# the multiarch libc6:arm64 under /lib/aarch64-linux-gnu. Not
# `-L /usr/aarch64-linux-gnu` (the cross toolchain's copy): with Debian 12's
# qemu 7.2 that ld.so meets the multiarch libc and the first pthread_create
# hangs. Not static linking either: it works, but bdwgc and the tests would
# be linked differently from the native build. The runners spawn the vm
# through a shell wrapper holding the same command (tests/CMakeLists.txt),
# so no binfmt_misc registration is needed.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_OBJDUMP aarch64-linux-gnu-objdump CACHE FILEPATH "objdump for the target")
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(CMAKE_CROSSCOMPILING_EMULATOR "qemu-aarch64-static;-L;/")
# Host programs (re2c) from the host; libraries and headers for the target.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
