# Adapters built like a third party builds them (issue 15): each is its own
# CMake project under plugins/<tool>/ that finds the SDK only through the
# installed smelt-sdk.pc.  The build first installs the SDK (the `dev`
# install component: <smelt/sdk.h>, smelt-sdk.pc, ABI.md) into the stage,
# which already mirrors the core's install tree, so the stage is a complete
# installed prefix.  Each adapter is then configured against that prefix
# (CMAKE_PREFIX_PATH, the way a vendor points at an installed Smelt), built,
# and installed into the SDK's adapterdir: the stage's adapter folder, where
# the staged smelt finds it.  The sanitizer build passes its flags on.
include(ExternalProject)

set(SMELT_OOT_ADAPTERS soda dagster evidence)
set(SMELT_SDK_STAMP ${CMAKE_BINARY_DIR}/oot/sdk-installed.stamp)
add_custom_command(OUTPUT ${SMELT_SDK_STAMP}
  COMMAND ${CMAKE_COMMAND} --install ${CMAKE_BINARY_DIR} --component dev --prefix ${SMELT_STAGE}
  COMMAND ${CMAKE_COMMAND} -E touch ${SMELT_SDK_STAMP}
  DEPENDS ${PROJECT_SOURCE_DIR}/sdk/include/smelt/sdk.h ${PROJECT_SOURCE_DIR}/sdk/smelt-sdk.pc.in
  COMMENT "Installing the SDK into the stage for out-of-tree adapters")
add_custom_target(smelt_sdk_staged DEPENDS ${SMELT_SDK_STAMP})
add_dependencies(smelt_sdk_staged smelt_docs)   # the dev component installs generated docs

set(oot_flags "")
set(oot_link "")
if(SMELT_SANITIZE)
  set(oot_flags "-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined")
  set(oot_link "-fsanitize=address,undefined")
endif()
foreach(tool ${SMELT_OOT_ADAPTERS})
  ExternalProject_Add(oot_${tool}
    SOURCE_DIR ${PROJECT_SOURCE_DIR}/plugins/${tool}
    BINARY_DIR ${CMAKE_BINARY_DIR}/oot/${tool}
    PREFIX ${CMAKE_BINARY_DIR}/oot/${tool}-ep
    CMAKE_ARGS -DCMAKE_PREFIX_PATH=${SMELT_STAGE}
               -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
               -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE}
               "-DCMAKE_C_FLAGS=${oot_flags}"
               "-DCMAKE_MODULE_LINKER_FLAGS=${oot_link}"
    BUILD_ALWAYS ON
    DEPENDS smelt_sdk_staged)
endforeach()
