# One layer probe (tests/CMakeLists.txt, "layers"): builds probe target
# TARGET from scratch (its objects under OBJ_DIR removed first, so a stale
# object cannot pass) and checks the outcome. EXPECT=fail: the build must
# fail because HEADER is not in the layer's view; EXPECT=ok: it must build.
file(GLOB_RECURSE stale ${OBJ_DIR}/*.o ${OBJ_DIR}/*.o.d)
if(stale)
  file(REMOVE ${stale})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(EXPECT STREQUAL "fail")
  if(rc EQUAL 0)
    message(FATAL_ERROR "${TARGET} built: its layer can see ${HEADER}\n${out}")
  endif()
  if(NOT out MATCHES "${HEADER}: No such file or directory")
    message(FATAL_ERROR "${TARGET} failed, but not for want of ${HEADER}:\n${out}")
  endif()
elseif(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TARGET} did not build: its layer should see ${HEADER}\n${out}")
endif()
