// libinotifytools has no pkg-config file; the library keeps global state, drive it from one thread.
#include <inotifytools/inotifytools.h>
#include <inotifytools/inotify.h>
