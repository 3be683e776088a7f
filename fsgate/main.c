#include <stdio.h>
int main(void)
{
	puts("fsgate: not built yet");
	return 125;
}
