# The layers of the VM (docs/hacking.md, "Layers"; each folder's README.md
# says what it owns). Each folder is an object library compiled against a
# view of the source tree that holds only what the folder may include: a
# directory of symbolic links in the build tree, put on the include path
# instead of the source root. An #include that runs upward (vm/sched
# including vm/interp/runtime.h, say) finds no such file, and the build
# fails at that line.
#
# Bottom to top; a layer sees itself and what it names, never what is above:
#   vm/core leaves  value.h, object.h, fatal.h, lockrank.h: include nothing
#                   else from vm/,
#                   and every layer sees them
#   vm/arch         context switch, native stacks, the preemption trampoline
#   vm/sched        goroutines, Ms and Ps, parking, channels, preemption
#   vm/gc           the heap on bdwgc and the collector
#   vm/core         object operations (allocating from the gc heap)
#   lang            the compiler; it sees the bytecode format it emits
#                   (vm/interp/bytecode.h, opcodes.h) and nothing else
#   vm/interp       the Runtime, threads, the interpreter
#   vm/lib          builtins and standard modules
#   vm/api          the embedding API (include/weft) and the host side
# tests/ and bench/ see the whole tree.

set(WEFT_CORE_LEAVES vm/core/value.h vm/core/object.h vm/core/fatal.h vm/core/lockrank.h)

# weft_layer(NAME SOURCES files... SEES dirs-or-files...)
# Defines the object library weft_NAME. A SEES entry that is a directory
# gives the whole folder; a file gives that header alone.
function(weft_layer name)
  cmake_parse_arguments(L "" "" "SOURCES;SEES" ${ARGN})
  set(view ${CMAKE_BINARY_DIR}/layers/${name})
  file(REMOVE_RECURSE ${view})
  foreach(entry IN LISTS L_SEES WEFT_CORE_LEAVES)
    get_filename_component(parent ${view}/${entry} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    if(NOT EXISTS ${view}/${entry})
      file(CREATE_LINK ${CMAKE_SOURCE_DIR}/${entry} ${view}/${entry} SYMBOLIC)
    endif()
  endforeach()
  add_library(weft_${name} OBJECT ${L_SOURCES})
  target_include_directories(weft_${name} PRIVATE ${view} ${WEFT_ARCH_GEN_DIR})
  target_link_libraries(weft_${name} PUBLIC weft::bdwgc Threads::Threads)
endfunction()
