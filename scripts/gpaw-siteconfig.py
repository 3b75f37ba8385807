# GPAW build configuration: MPI-enabled, libxc and OpenBLAS from Debian.
# Used by scripts/setup.sh through the GPAW_CONFIG environment variable.
mpi = True
compiler = 'mpicxx'
libraries = ['xc', 'openblas']
library_dirs = ['/usr/lib/x86_64-linux-gnu']
include_dirs = ['/usr/include']
