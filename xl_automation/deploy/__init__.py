"""Getting it onto a PC: the offline kit, installing into Excel, xlwings.conf, the environment doctor."""
