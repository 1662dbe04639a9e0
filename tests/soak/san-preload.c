/*
 * Preloaded after the ASan runtime into `criu lazy-pages` by `make sanitize`
 * (tests/soak/sanitize.sh). CRIU is not instrumented, so the preloaded
 * runtime initializes itself on the first malloc() it intercepts. That is
 * the one in newlocale(), called by libp11-kit's constructor (p11-kit comes
 * with gnutls) with glibc's __libc_setlocale_lock held for writing. The
 * runtime's initialization looks up "swift_demangle" with dlsym() and
 * clears the failure with dlerror(), whose message translation takes the
 * same lock for reading: glibc refuses (EDEADLK), the translation unlocks
 * it anyway, and the lock is left corrupt, so that freelocale() in
 * p11-kit's destructor hangs the daemon at exit. Found so, not guessed:
 * a watchpoint on the lock shows the sequence.
 *
 * With this symbol defined, dlsym() succeeds, dlerror() has no message to
 * translate and the lock is left alone. The runtime calls it only for
 * names mangled the Swift way ("_T..."), which C has none of; it says
 * "cannot demangle" like a missing demangler would.
 */
#include <stddef.h>

char *swift_demangle(const char *name, size_t len, char *out, size_t *outlen, unsigned int flags);

char *swift_demangle(const char *name, size_t len, char *out, size_t *outlen, unsigned int flags)
{
	return NULL;
}
