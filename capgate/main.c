#include <stdio.h>
int main(void)
{
	puts("capgate: not built yet");
	return 125;
}
