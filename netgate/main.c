#include <stdio.h>
int main(void)
{
	puts("netgate: not built yet");
	return 125;
}
