// hello-cmd is a wasi:cli/run command component used to test `wbox run`:
// it prints its arguments and one environment variable, copies stdin to
// stdout when asked, lists a preopened directory, and exits with a status.
//
//   hello-cmd [--cat] [--ls DIR] [--exit N] ARGS...
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  int status = 0;
  printf("hello from wbox run: %d args\n", argc);
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc) {
      status = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--cat") == 0) {
      int c;
      while ((c = getchar()) != EOF) putchar(c);
    } else if (strcmp(argv[i], "--ls") == 0 && i + 1 < argc) {
      DIR *d = opendir(argv[++i]);
      if (!d) {
        perror("opendir");
        return 2;
      }
      struct dirent *e;
      while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') printf("entry: %s\n", e->d_name);
      }
      closedir(d);
    } else {
      printf("arg[%d] = %s\n", i, argv[i]);
    }
  }
  const char *who = getenv("WHO");
  if (who) printf("WHO = %s\n", who);
  fprintf(stderr, "exiting with %d\n", status);
  fflush(stdout);
  return status;
}
