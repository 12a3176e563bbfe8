#include <stdio.h>

__attribute__((noinline)) void hook(int i)
{
	asm volatile("" : : "r"(i) : "memory");
}

int main(void)
{
	for (int i = 0; i < 3; i++)
		hook(i);
	puts("done");
	return 0;
}
