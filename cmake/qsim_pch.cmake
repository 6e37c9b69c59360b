# Precompiled LibTorch headers for the torch-using test binaries (QSIM_PCH, default ON).
#
# Nearly every test TU includes <torch/torch.h> with gtest, directly or through
# qsim's headers, and parsing them is half its compile time: with the header
# precompiled a test TU compiles in 15-18 s instead of 25 (docs/benchmarks.md,
# "Build time"). The library, tool and benchmark targets do not use one: loading a
# precompiled <torch/torch.h> costs ~7 s per TU, and too many of their TUs never
# parse that much, so it was measured to cost as much as it saved there.
#
# qsim_add_test registers each test target (qsim_register_pch); qsim_apply_pch(),
# called once every target exists, gives each a precompiled header shared with the
# other targets GCC would accept the same header for. GCC takes a PCH only when
# -fPIC/-fPIE, the macros its headers test (_OPENMP, GTEST_HAS_PTHREAD, FMT_SHARED...)
# and the code options match, so targets are grouped by those: one small OBJECT
# "host" per group builds the header, the others REUSE_FROM it. -Winvalid-pch makes
# a header GCC rejects an error rather than a silent full parse.
#
# The PCH is force-included: a test that forgets an include still compiles here.
# QSIM_PCH=OFF builds the plain way.
option(QSIM_PCH "Precompile LibTorch's headers for the torch-using test binaries" ON)

set(QSIM_PCH_HEADERS <torch/torch.h> <gtest/gtest.h> <gmock/gmock.h> <fmt/format.h> <nlohmann/json.hpp>)

function(qsim_register_pch target)
  set_property(GLOBAL APPEND PROPERTY QSIM_PCH_TARGETS ${target})
endfunction()

# Whether <item>'s compile usage reaches <target>: <target> links it, or a target
# it links passes it on publicly (a static library's private links arrive as
# $<LINK_ONLY:...>, which carries no compile flags and is skipped).
function(_qsim_links target item out)
  get_target_property(queue ${target} LINK_LIBRARIES)
  set(seen "")
  set(found FALSE)
  list(LENGTH queue n)
  while(n GREATER 0 AND NOT found)
    list(POP_FRONT queue l)
    if(l STREQUAL item)
      set(found TRUE)
    elseif(TARGET ${l} AND NOT l IN_LIST seen)
      list(APPEND seen ${l})
      get_target_property(aliased ${l} ALIASED_TARGET)
      if(aliased)
        list(APPEND queue ${aliased})
        continue()
      endif()
      get_target_property(ilinks ${l} INTERFACE_LINK_LIBRARIES)
      foreach(i IN LISTS ilinks)
        if(i AND NOT i MATCHES "^\\$<LINK_ONLY:")
          list(APPEND queue ${i})
        endif()
      endforeach()
    endif()
    list(LENGTH queue n)
  endwhile()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

# The PCH group of <target>: what GCC checks when it loads a header.
function(_qsim_pch_group target out)
  get_target_property(type ${target} TYPE)
  set(pic pic)
  if(type STREQUAL "EXECUTABLE")
    set(pic pie)
  endif()
  get_target_property(options ${target} COMPILE_OPTIONS)
  get_target_property(defs ${target} COMPILE_DEFINITIONS)
  _qsim_links(${target} OpenMP::OpenMP_CXX omp)
  string(MD5 key "${pic};${options};${omp}")  # every member links torch, gtest and fmt
  string(SUBSTRING ${key} 0 8 key)
  set(${out} ${pic}_${key} PARENT_SCOPE)
endfunction()

# The OBJECT target that builds group <group>'s header, with <like>'s options.
function(_qsim_pch_host group like)
  set(host qsim_pch_${group})
  if(TARGET ${host})
    return()
  endif()
  add_library(${host} OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch/host.cpp)
  get_target_property(options ${like} COMPILE_OPTIONS)
  if(options)
    target_compile_options(${host} PRIVATE ${options})
  endif()
  target_link_libraries(${host} PRIVATE ${QSIM_TORCH_TARGETS} nlohmann_json::nlohmann_json)
  foreach(dep OpenMP::OpenMP_CXX GTest::gtest GTest::gmock fmt::fmt)
    _qsim_links(${like} ${dep} has)
    if(has)
      target_link_libraries(${host} PRIVATE ${dep})
    endif()
  endforeach()
  get_target_property(type ${like} TYPE)
  if(type STREQUAL "EXECUTABLE")
    set_target_properties(${host} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
    target_compile_options(${host} PRIVATE -fPIE)
  endif()
  target_precompile_headers(${host} PRIVATE ${QSIM_PCH_HEADERS})
endfunction()

# A group with fewer C++ sources than this compiles faster without a header of
# its own (building one costs about as much as parsing it three times).
set(QSIM_PCH_MIN_SOURCES 4)

function(qsim_apply_pch)
  if(NOT QSIM_PCH OR NOT QSIM_WITH_TORCH)
    return()
  endif()
  get_property(targets GLOBAL PROPERTY QSIM_PCH_TARGETS)
  set(groups "")
  foreach(t IN LISTS targets)
    _qsim_links(${t} torch uses_torch)
    _qsim_links(${t} fmt::fmt uses_fmt)
    _qsim_links(${t} GTest::gtest uses_gtest)
    if(uses_torch AND uses_fmt AND uses_gtest)
      _qsim_pch_group(${t} group)
      list(APPEND groups ${group})
      list(APPEND members_${group} ${t})
      get_target_property(sources ${t} SOURCES)
      list(FILTER sources INCLUDE REGEX "\\.cpp$")
      list(LENGTH sources n)
      math(EXPR count_${group} "${count_${group}} + ${n}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES groups)
  set(used 0)
  foreach(group IN LISTS groups)
    if(count_${group} LESS QSIM_PCH_MIN_SOURCES)
      continue()
    endif()
    list(GET members_${group} 0 first)
    _qsim_pch_host(${group} ${first})
    foreach(t IN LISTS members_${group})
      target_precompile_headers(${t} REUSE_FROM qsim_pch_${group})
      target_compile_options(${t} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Winvalid-pch>)
    endforeach()
    math(EXPR used "${used} + 1")
  endforeach()
  message(STATUS "qsim: precompiled headers: ${used} shared headers")
endfunction()
