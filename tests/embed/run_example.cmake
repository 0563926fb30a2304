# Runs one example host and compares its stdout with the expected file;
# fails on a non-zero exit status too. -DEXE=... -DARG=... -DEXPECTED=...
execute_process(COMMAND ${EXE} ${ARG} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 60)
file(READ ${EXPECTED} want)
if(NOT rc EQUAL 0 OR NOT out STREQUAL want)
  message(FATAL_ERROR "${EXE} exited with ${rc}\n--- stdout:\n${out}--- expected:\n${want}--- stderr:\n${err}")
endif()
