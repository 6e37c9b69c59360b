# qsim_add_layer(<name> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
#
# Each layer of the architecture is one static library, qsim_<name> (alias
# qsim::<name>). A layer may only link the layers above it, so the build enforces
# the dependency order of docs/design.md. qsim::qsim links them all.
function(qsim_add_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target qsim_${name})
  add_library(${target} STATIC ${ARG_SOURCES})
  add_library(qsim::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME qsim_${name})
  target_include_directories(${target}
    PUBLIC
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
      $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE
      ${PROJECT_SOURCE_DIR}/src
      ${PROJECT_SOURCE_DIR})
  target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  qsim_enable_warnings(${target})
  qsim_enable_sanitizers(${target})
  set_property(GLOBAL APPEND PROPERTY QSIM_LAYERS ${target})
endfunction()
