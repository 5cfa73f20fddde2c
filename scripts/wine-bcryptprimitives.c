/* Wine 8 (Debian 12) has no bcryptprimitives.dll, whose ProcessPrng Rust's standard library
 * (1.78+) imports on Windows for random numbers. This stand-in, put next to the .exe only for
 * the Wine smoke test, answers ProcessPrng with RtlGenRandom. Real Windows (10 and later)
 * ships the DLL; the packaged VSIX never carries this file. */
#include <windows.h>

#define RtlGenRandom SystemFunction036
BOOLEAN NTAPI RtlGenRandom(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG n = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!RtlGenRandom(data, n)) return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
