// Linux calls that glibc declares only under _GNU_SOURCE, which the Swift Glibc module leaves out.
#include <unistd.h>

// syncfs(2): flushes everything written to the file system holding the open file `fd`;
// 0, or -1 with errno set.
extern int syncfs(int fd);
