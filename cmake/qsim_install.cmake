# Install rules: a relocatable package that find_package(qsim CONFIG) finds.
include(CMakePackageConfigHelpers)

set(QSIM_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/qsim")

get_property(_layers GLOBAL PROPERTY QSIM_LAYERS)
install(TARGETS qsim ${_layers}
  EXPORT qsim-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/qsim DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp" PATTERN "*.in" EXCLUDE)
install(FILES "${PROJECT_BINARY_DIR}/include/qsim/config.hpp"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/qsim)
install(DIRECTORY share/ DESTINATION ${CMAKE_INSTALL_DATADIR}/qsim OPTIONAL)

install(EXPORT qsim-targets NAMESPACE qsim:: DESTINATION ${QSIM_INSTALL_CMAKEDIR})
export(EXPORT qsim-targets NAMESPACE qsim:: FILE "${PROJECT_BINARY_DIR}/qsim-targets.cmake")

configure_package_config_file(cmake/qsim-config.cmake.in
  "${PROJECT_BINARY_DIR}/qsim-config.cmake"
  INSTALL_DESTINATION ${QSIM_INSTALL_CMAKEDIR})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/qsim-config-version.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/qsim-config.cmake"
  "${PROJECT_BINARY_DIR}/qsim-config-version.cmake"
  DESTINATION ${QSIM_INSTALL_CMAKEDIR})
