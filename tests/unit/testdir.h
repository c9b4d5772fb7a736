/**
 * @file testdir.h  Temporary directories for the unit tests
 *
 * Included by the test programs that need a scratch directory (a database,
 * a certificate, a socket); each removes it, with everything in it, when
 * done.
 */

#include <dirent.h>
#include <string.h>
#include <unistd.h>


/**
 * Remove a directory and what it holds (files and sub-directories)
 *
 * @param dir Directory path
 */
static inline void testdir_remove(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;

	while ((de = readdir(d)) != NULL) {
		char p[256];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;

		re_snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (unlink(p) != 0)
			testdir_remove(p);
	}

	closedir(d);
	rmdir(dir);
}
