# Docs are code (tests/CMakeLists.txt: the `docs-*` tests). Two checks:
#
#   cmake -DCHECK=examples -DVM=build/vm -DSOURCE_DIR=. -DWORK_DIR=DIR -P tests/docs_check.cmake
#     Every fenced block opened by a line that is exactly ```weft in
#     docs/*.md is written to WORK_DIR and run with VM (stdin empty,
#     60 s timeout). It must exit 0. When the next fenced block after it,
#     with only blank lines in between, is opened by exactly ```output,
#     the script's stdout must equal that block's text exactly (stderr is
#     not compared: traces go there). A line `// vm: FLAGS` anywhere in the
#     block passes FLAGS to the vm before the script. An ```output block
#     that follows no ```weft block is an error.
#
#   cmake -DCHECK=citations -DSOURCE_DIR=. -P tests/docs_check.cmake
#     Every citation docs/<name>.md#<anchor> in the sources and their
#     READMEs (vm, lang, include, tools, tests, bench, examples, cmake,
#     CMakeLists.txt, README.md) and every link (#<anchor>) or (<name>.md#<anchor>) inside
#     docs/*.md must name a heading of that file, with GitHub's anchors:
#     lower case, characters other than letters, digits, spaces, `_` and
#     `-` dropped, spaces turned into `-`.
#
# Each failure prints `FAIL where: why`; the last line is a count, and
# any failure makes the script (and the test) fail.
# Rejected: a shell or Python extractor (a fresh Debian has no python3,
# and this runs wherever CMake does).
cmake_minimum_required(VERSION 3.20)

if(NOT SOURCE_DIR)
  message(FATAL_ERROR "docs_check: -DSOURCE_DIR=... is required")
endif()
# Paths may be given relative to the current directory.
foreach(v SOURCE_DIR VM WORK_DIR)
  if(${v})
    get_filename_component(${v} "${${v}}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
endforeach()
file(GLOB docs "${SOURCE_DIR}/docs/*.md")
list(SORT docs)
if(NOT docs)
  message(FATAL_ERROR "docs_check: no ${SOURCE_DIR}/docs/*.md")
endif()

# ---- examples ----

# Runs one block: script text in `code`, expected stdout in `expected`
# (when has_expected), from doc `doc` at line `at`.
function(run_block doc at index code has_expected expected)
  get_filename_component(stem "${doc}" NAME_WE)
  set(script "${WORK_DIR}/${stem}-${index}.wf")
  file(WRITE "${script}" "${code}")
  set(flags "")
  string(REGEX MATCHALL "(^|\n)// vm: [^\n]*" directives "${code}")
  foreach(d IN LISTS directives)
    string(REGEX REPLACE "^\n?// vm: " "" d "${d}")
    separate_arguments(more UNIX_COMMAND "${d}")
    list(APPEND flags ${more})
  endforeach()
  execute_process(COMMAND "${VM}" ${flags} "${stem}-${index}.wf"
                  WORKING_DIRECTORY "${WORK_DIR}"
                  INPUT_FILE /dev/null
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc
                  TIMEOUT 60)
  set(where "docs/${stem}.md:${at}")
  list(JOIN flags " " shown)
  string(STRIP "vm ${shown}" shown)
  set(bad 0)
  if(NOT rc STREQUAL "0")
    message("FAIL ${where}: `${shown}` exited with '${rc}'; stderr:\n${err}")
    set(bad 1)
  elseif(has_expected AND NOT out STREQUAL expected)
    message("FAIL ${where}: stdout differs from the ```output block\n--- expected\n${expected}--- got\n${out}---")
    set(bad 1)
  endif()
  set(block_failed ${bad} PARENT_SCOPE)
endfunction()

# Runs the weft block waiting in `pending`, if any, without expected
# output. A macro: it works on check_examples' locals.
macro(flush_pending)
  if(NOT pending STREQUAL "")
    run_block("${doc}" ${pending_at} ${pending_index} "${pending}" FALSE "")
    math(EXPR failed "${failed} + ${block_failed}")
    set(pending "")
  endif()
endmacro()

# The first line of ${_rest} into ${line}, removed from ${_rest}. Line by
# line with string(FIND), not as a CMake list: Weft code is full of the
# `;`, `[` and `]` that CMake lists treat specially.
macro(pop_line)
  string(FIND "${_rest}" "\n" nl)
  if(nl EQUAL -1)
    set(line "${_rest}")
    set(_rest "")
  else()
    string(SUBSTRING "${_rest}" 0 ${nl} line)
    math(EXPR nl "${nl} + 1")
    string(SUBSTRING "${_rest}" ${nl} -1 _rest)
  endif()
endmacro()

function(check_examples)
  if(NOT VM OR NOT WORK_DIR)
    message(FATAL_ERROR "docs_check: CHECK=examples needs -DVM=... and -DWORK_DIR=...")
  endif()
  file(REMOVE_RECURSE "${WORK_DIR}")
  file(MAKE_DIRECTORY "${WORK_DIR}")
  set(total 0)
  set(compared 0)
  set(failed 0)
  foreach(doc IN LISTS docs)
    file(READ "${doc}" text)
    get_filename_component(name "${doc}" NAME)
    # state: text | weft | output | other (inside a fence of another kind)
    set(state text)
    set(pending "")  # a weft block waiting to see whether an ```output follows
    set(code "")
    set(expected "")
    set(at 0)
    set(index 0)
    set(_rest "${text}")
    set(n 0)
    while(NOT _rest STREQUAL "")
      math(EXPR n "${n} + 1")
      pop_line()
      if(state STREQUAL "text")
        if(line STREQUAL "```weft")
          flush_pending()
          set(state weft)
          set(code "")
          math(EXPR index "${index} + 1")
          set(at ${n})
        elseif(line STREQUAL "```output")
          if(pending STREQUAL "")
            message("FAIL docs/${name}:${n}: an ```output block that follows no ```weft block")
            math(EXPR failed "${failed} + 1")
            set(state other)
          else()
            set(state output)
            set(expected "")
          endif()
        elseif(line MATCHES "^```[A-Za-z0-9_+-]*$")
          flush_pending()
          set(state other)
        elseif(NOT line MATCHES "^[ \t]*$")
          flush_pending()
        endif()
      elseif(state STREQUAL "weft")
        if(line STREQUAL "```")
          set(state text)
          set(pending "${code}")
          set(pending_at ${at})
          set(pending_index ${index})
          math(EXPR total "${total} + 1")
        else()
          string(APPEND code "${line}\n")
        endif()
      elseif(state STREQUAL "output")
        if(line STREQUAL "```")
          set(state text)
          run_block("${doc}" ${pending_at} ${pending_index} "${pending}" TRUE "${expected}")
          math(EXPR failed "${failed} + ${block_failed}")
          math(EXPR compared "${compared} + 1")
          set(pending "")
        else()
          string(APPEND expected "${line}\n")
        endif()
      else()  # another fence: wait for its end
        if(line STREQUAL "```")
          set(state text)
        endif()
      endif()
    endwhile()
    if(NOT state STREQUAL "text")
      message("FAIL docs/${name}: a fenced block is not closed at the end of the file")
      math(EXPR failed "${failed} + 1")
    endif()
    flush_pending()
  endforeach()
  message("${total} weft blocks run (${compared} with expected output), ${failed} failed")
  if(total EQUAL 0)
    message(FATAL_ERROR "docs_check: no ```weft block in docs/*.md")
  endif()
  if(failed GREATER 0)
    message(FATAL_ERROR "docs_check: ${failed} failed")
  endif()
endfunction()

# ---- citations ----

# GitHub's anchor for a heading's text.
function(slug text out)
  string(TOLOWER "${text}" s)
  string(REGEX REPLACE "[^a-z0-9 _-]" "" s "${s}")
  string(REPLACE " " "-" s "${s}")
  set(${out} "${s}" PARENT_SCOPE)
endfunction()

function(check_citations)
  # Anchors of every doc: ANCHORS_<name> lists them.
  foreach(doc IN LISTS docs)
    get_filename_component(name "${doc}" NAME)
    file(READ "${doc}" text)
    set(anchors "")
    set(fenced FALSE)
    set(_rest "${text}")
    while(NOT _rest STREQUAL "")
      pop_line()
      if(line MATCHES "^```[A-Za-z0-9_+-]*$")
        if(fenced)
          set(fenced FALSE)
        else()
          set(fenced TRUE)
        endif()
      elseif(NOT fenced AND line MATCHES "^#+ +(.*[^ ]) *$")
        slug("${CMAKE_MATCH_1}" a)
        set(base "${a}")
        set(k 0)
        while(a IN_LIST anchors)  # a repeated heading gets -1, -2, ...
          math(EXPR k "${k} + 1")
          set(a "${base}-${k}")
        endwhile()
        list(APPEND anchors "${a}")
      endif()
    endwhile()
    set(ANCHORS_${name} "${anchors}" PARENT_SCOPE)
    set(ANCHORS_${name} "${anchors}")
  endforeach()

  set(checked 0)
  set(failed 0)
  # check(file, doc name, anchor): one citation.
  macro(check_one file target anchor)
    math(EXPR checked "${checked} + 1")
    if(NOT DEFINED ANCHORS_${target})
      message("FAIL ${file}: cites docs/${target}, which does not exist")
      math(EXPR failed "${failed} + 1")
    elseif(NOT "${anchor}" IN_LIST ANCHORS_${target})
      message("FAIL ${file}: cites docs/${target}#${anchor}, which is no heading of it")
      math(EXPR failed "${failed} + 1")
    endif()
  endmacro()

  # Sources citing docs/<name>.md#<anchor>.
  set(globs "")
  foreach(dir vm lang include tools tests bench examples cmake)
    foreach(ext h cpp re S cmake txt wf sh supp dict go c lua py md)
      list(APPEND globs "${SOURCE_DIR}/${dir}/*.${ext}")
    endforeach()
  endforeach()
  file(GLOB_RECURSE sources ${globs})
  list(APPEND sources "${SOURCE_DIR}/CMakeLists.txt" "${SOURCE_DIR}/README.md")
  list(SORT sources)
  foreach(f IN LISTS sources)
    file(READ "${f}" text)
    string(REGEX MATCHALL "docs/[A-Za-z0-9_-]+\\.md#[A-Za-z0-9_-]*" cites "${text}")
    file(RELATIVE_PATH rel "${SOURCE_DIR}" "${f}")
    foreach(c IN LISTS cites)
      string(REGEX REPLACE "^docs/([^#]+)#(.*)$" "\\1" target "${c}")
      string(REGEX REPLACE "^docs/([^#]+)#(.*)$" "\\2" anchor "${c}")
      check_one("${rel}" "${target}" "${anchor}")
    endforeach()
  endforeach()

  # Links between and within the docs.
  foreach(doc IN LISTS docs)
    get_filename_component(name "${doc}" NAME)
    file(READ "${doc}" text)
    # `]` would make CMake's list of matches one element: drop it first.
    string(REPLACE "](" "@link(" text "${text}")
    string(REGEX MATCHALL "@link\\(([A-Za-z0-9_-]+\\.md)?#[A-Za-z0-9_-]*\\)" links "${text}")
    foreach(l IN LISTS links)
      string(REGEX REPLACE "^@link\\(([^#]*)#(.*)\\)$" "\\1" target "${l}")
      string(REGEX REPLACE "^@link\\(([^#]*)#(.*)\\)$" "\\2" anchor "${l}")
      if(target STREQUAL "")
        set(target "${name}")
      endif()
      check_one("docs/${name}" "${target}" "${anchor}")
    endforeach()
  endforeach()

  message("${checked} citations of docs/ checked, ${failed} failed")
  if(failed GREATER 0)
    message(FATAL_ERROR "docs_check: ${failed} failed")
  endif()
endfunction()

if(CHECK STREQUAL "examples")
  check_examples()
elseif(CHECK STREQUAL "citations")
  check_citations()
else()
  message(FATAL_ERROR "docs_check: -DCHECK=examples or -DCHECK=citations")
endif()
