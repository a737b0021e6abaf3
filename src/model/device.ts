// A DMA-capable device: its capabilities (trace-format.md) and whether a
// fault it could not survive hung it.
export class DeviceState {
  hung = false;
  constructor(
    readonly name: string,
    public odp: boolean,
    public iommu: boolean,
    public remap: boolean,
    public faultTolerant: boolean,
  ) {}
}
