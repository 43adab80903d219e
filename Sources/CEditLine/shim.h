#ifndef NINESCOPE_CEDITLINE_SHIM_H
#define NINESCOPE_CEDITLINE_SHIM_H
#include <stdio.h>
#include <histedit.h>
#endif
