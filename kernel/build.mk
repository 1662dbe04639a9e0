# kernel/: compat header, feature probe library and CLI, conformance suite.
KERNEL_LIB_CFLAGS := -I$(TOP)/kernel
