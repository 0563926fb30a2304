# Docs are code (tests/CMakeLists.txt: the `docs-*` tests). Two checks:
#
#   cmake -DCHECK=examples -DVM=build/vm -DSOURCE_DIR=. -DWORK_DIR=DIR -P tests/docs_check.cmake
#     Every fenced block opened by a line that is exactly ```weft in
#     docs/*.md is written to WORK_DIR and run with VM from there (stdin
#     empty, 60 s timeout), in the order of the docs: files a block writes
#     are there for the blocks after it. It must exit 0. When the next
#     fenced block after it, with only blank lines in between, is opened
#     by exactly ```output, the script's stdout must equal that block's
#     text exactly; a ```stderr block (after the weft block, or after its
#     output block) is compared with its stderr the same way. Otherwise
#     stderr is not compared. Lines of the block that start so are
#     directives:
#       // vm: FLAGS   passes FLAGS to the vm before the script;
#       // file: NAME  names the script NAME (a path under WORK_DIR)
#                      instead of DOC-N.wf: the name a traceback shows;
#       // module: NAME  saves the block as NAME, like `// file:`, but
#                      only compiles it (`vm --check`): a module that the
#                      next blocks import, whose top level runs there;
#       // exit: N     the block must exit with status N instead of 0.
#     An ```output or ```stderr block that follows no ```weft block, and
#     a fence line that only looks like ```weft, ```output or ```stderr
#     (indented, other case, trailing text), are errors: no example is
#     skipped without notice. Blocks of any other kind (```sh, a bare
#     ```) are not run.
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

# The value of the directive `// KEY: VALUE` in `code`, into `out`
# ("" when absent; the last one wins).
function(directive code key out)
  string(REGEX MATCHALL "(^|\n)// ${key}: [^\n]*" found "${code}")
  set(v "")
  foreach(d IN LISTS found)
    string(REGEX REPLACE "^\n?// ${key}: " "" v "${d}")
  endforeach()
  string(STRIP "${v}" v)
  set(${out} "${v}" PARENT_SCOPE)
endfunction()

# Runs one block: script text in `code`, expected stdout in `expected`
# (when has_expected) and expected stderr in `expected_err` (when
# has_err), from doc `doc` at line `at`.
function(run_block doc at index code has_expected expected has_err expected_err)
  get_filename_component(stem "${doc}" NAME_WE)
  set(where "docs/${stem}.md:${at}")
  set(name "${stem}-${index}.wf")
  directive("${code}" file file_name)
  directive("${code}" module module_name)
  set(check_only FALSE)
  if(NOT module_name STREQUAL "")
    set(file_name "${module_name}")
    set(check_only TRUE)
  endif()
  if(NOT file_name STREQUAL "")
    if(file_name MATCHES "^/|(^|/)\\.\\.(/|$)")
      message("FAIL ${where}: `// file: ${file_name}` must be a relative path without `..`")
      set(block_failed 1 PARENT_SCOPE)
      return()
    endif()
    set(name "${file_name}")
  endif()
  if(check_only AND (has_expected OR has_err))
    message("FAIL ${where}: a `// module:` block is only compiled: it can have no ```output or ```stderr block")
    set(block_failed 1 PARENT_SCOPE)
    return()
  endif()
  set(want_rc 0)
  directive("${code}" exit want_rc)
  if(want_rc STREQUAL "")
    set(want_rc 0)
  endif()
  set(script "${WORK_DIR}/${name}")
  file(WRITE "${script}" "${code}")
  set(flags "")
  string(REGEX MATCHALL "(^|\n)// vm: [^\n]*" directives "${code}")
  foreach(d IN LISTS directives)
    string(REGEX REPLACE "^\n?// vm: " "" d "${d}")
    separate_arguments(more UNIX_COMMAND "${d}")
    list(APPEND flags ${more})
  endforeach()
  if(check_only)
    list(APPEND flags --check)
  endif()
  execute_process(COMMAND "${VM}" ${flags} "${name}"
                  WORKING_DIRECTORY "${WORK_DIR}"
                  INPUT_FILE /dev/null
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc
                  TIMEOUT 60)
  list(JOIN flags " " shown)
  string(STRIP "vm ${shown}" shown)
  string(APPEND shown " ${name}")
  set(bad 0)
  if(NOT rc STREQUAL "${want_rc}")
    message("FAIL ${where}: `${shown}` exited with '${rc}', not ${want_rc}; stderr:\n${err}")
    set(bad 1)
  elseif(has_expected AND NOT out STREQUAL expected)
    message("FAIL ${where}: stdout differs from the ```output block\n--- expected\n${expected}--- got\n${out}---")
    set(bad 1)
  elseif(has_err AND NOT err STREQUAL expected_err)
    message("FAIL ${where}: stderr differs from the ```stderr block\n--- expected\n${expected_err}--- got\n${err}---")
    set(bad 1)
  endif()
  set(block_failed ${bad} PARENT_SCOPE)
endfunction()

# Runs the weft block waiting in `pending`, if any, with the output and
# stderr blocks seen after it. A macro: it works on check_examples' locals.
macro(flush_pending)
  if(NOT pending STREQUAL "")
    run_block("${doc}" ${pending_at} ${pending_index} "${pending}"
              ${pending_has_out} "${pending_out}" ${pending_has_err} "${pending_err}")
    math(EXPR failed "${failed} + ${block_failed}")
    if(pending_has_out OR pending_has_err)
      math(EXPR compared "${compared} + 1")
    endif()
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
        elseif(line STREQUAL "```output" OR line STREQUAL "```stderr")
          string(SUBSTRING "${line}" 3 -1 kind)
          if(pending STREQUAL "" OR pending_has_err OR (kind STREQUAL "output" AND pending_has_out))
            message("FAIL docs/${name}:${n}: an ```${kind} block that follows no ```weft block (or repeats one)")
            math(EXPR failed "${failed} + 1")
            set(state other)
          else()
            set(state ${kind})
            set(expected "")
          endif()
        elseif(line MATCHES "^[ \t>]*```+[ \t]*([Ww][Ee][Ff][Tt]|[Oo][Uu][Tt][Pp][Uu][Tt]|[Ss][Tt][Dd][Ee][Rr][Rr])")
          message("FAIL docs/${name}:${n}: `${line}` is not exactly ```weft, ```output or ```stderr: the block would not be checked")
          math(EXPR failed "${failed} + 1")
          flush_pending()  # and stay in text: an indented block's lines are text
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
          set(pending_has_out FALSE)
          set(pending_out "")
          set(pending_has_err FALSE)
          set(pending_err "")
          math(EXPR total "${total} + 1")
        else()
          string(APPEND code "${line}\n")
        endif()
      elseif(state STREQUAL "output" OR state STREQUAL "stderr")
        if(line STREQUAL "```")
          if(state STREQUAL "output")
            set(pending_has_out TRUE)
            set(pending_out "${expected}")
          else()
            set(pending_has_err TRUE)
            set(pending_err "${expected}")
          endif()
          set(state text)
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
