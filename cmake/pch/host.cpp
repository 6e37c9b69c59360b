// The translation unit of a precompiled-header host target (cmake/qsim_pch.cmake):
// CMake compiles the group's header alongside this empty file.
