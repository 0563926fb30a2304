# Copies every script of tests/scripts, examples and tests/fuzz/seeds (inputs
# written to reach the wide bytecode forms: lang/codegen.cpp), flattened, into
# one directory: the fuzzers' seed corpus (the scripts stay where they are in git).
#   cmake -DSRC=<repository> -DOUT=<directory> -P seed_corpus.cmake
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
file(GLOB_RECURSE scripts ${SRC}/tests/scripts/*.wf ${SRC}/examples/*.wf ${SRC}/tests/fuzz/seeds/*.wf)
foreach(f IN LISTS scripts)
  file(RELATIVE_PATH rel ${SRC} ${f})
  string(REPLACE "/" "_" name ${rel})
  configure_file(${f} ${OUT}/${name} COPYONLY)
endforeach()
