# qsim_enable_sanitizers(target): applies QSIM_SANITIZE (e.g. "address,undefined")
# to one of qsim's own targets. Dependencies stay uninstrumented.
function(qsim_enable_sanitizers target)
  if(QSIM_SANITIZE)
    target_compile_options(${target} PRIVATE
      -fsanitize=${QSIM_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${QSIM_SANITIZE})
  endif()
endfunction()
